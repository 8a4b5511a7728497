import { z } from 'zod';
import type { PoolStats, ReplicaStats, primaryHostStats } from '../../db';

const int = z.number().int();

/** GET /api/health: liveness. */
export const LivenessSchema = z.object({ status: z.literal('ok'), message: z.string().meta({ example: 'API is running' }) }).meta({ id: 'Liveness' });

/** GET /api/health/ready. */
export const ReadinessSchema = z.object({ status: z.enum(['ready', 'unavailable']) }).meta({ id: 'Readiness' });

const poolNumbers = {
  min_connections: int,
  max_connections: int,
  available: int.meta({ description: 'Idle clients' }),
  in_use: int.meta({ description: 'Checked-out clients' }),
  total: int.meta({ description: 'Open clients' }),
  waiting: int.meta({ description: 'Callers queued for a client' }),
  usage_percent: int.meta({ description: 'round(100 × in_use / max_connections)' }),
};

const PoolEntrySchema = z.object({
  pool_name: z.string(),
  role: z.enum(['primary', 'replica']),
  ...poolNumbers,
  server: z.string().optional().meta({ description: 'Replicas: host:port/database' }),
  state: z.enum(['unknown', 'healthy', 'lagging', 'down']).optional().meta({ description: 'Replicas: only healthy ones take reads' }),
  lag_ms: int.nullable().optional(),
  in_recovery: z.boolean().nullable().optional(),
  error: z.string().optional(),
  host: z.string().nullable().meta({ description: 'host:port the pool\'s newest connection reached (null before the first)' }),
  host_role: z.enum(['primary', 'standby', 'unknown']).nullable().meta({ description: 'What that server reported: primary, standby, or unknown (a server older than 14 asked nothing)' }),
  host_switched_at: z.iso.datetime().nullable().meta({ description: 'When new connections last reached another host (a failover); null: never' }),
  host_switches: int.meta({ description: 'How often that happened since start' }),
  hosts: z
    .array(
      z.object({
        host: z.string().meta({ description: 'host:port, as listed in the pool\'s URL ("default host" when the URL names none: PGHOST, or the local socket)' }),
        state: z.enum(['up', 'down', 'unknown']).meta({ description: 'up: a connection reached it; down: it refused or timed out (tried last, probed again every DB_HOST_RECHECK_S); unknown: not tried yet' }),
        since: z.iso.datetime().nullable().meta({ description: 'When it took that state (null while unknown)' }),
      }),
    )
    .meta({ description: 'Every host of the pool\'s URL, in its order' }),
});

// The data layer declares the pool's numbers (poolStats() is one of its public helpers) and each pool's
// entry; these schemas describe the same shapes for the API. The checks below fail to compile when the
// two part: a field added, removed or retyped on one side only.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Entry = z.output<typeof PoolEntrySchema>;
type PrimaryEntry = PoolStats & ReturnType<typeof primaryHostStats> & { pool_name: string; role: 'primary' };
const heldTogether: [Same<z.output<z.ZodObject<typeof poolNumbers>>, PoolStats>, Same<keyof ReplicaStats, keyof Entry>, ReplicaStats extends Entry ? true : false, PrimaryEntry extends Entry ? true : false] = [true, true, true, true];
void heldTogether;

/** GET /api/health/db (docs/api.md §2), 200 and 503 alike. */
export const PoolHealthSchema = z
  .object({
    status: z.enum(['healthy', 'warning', 'error']),
    pool_stats: z.object(poolNumbers),
    pools: z.array(PoolEntrySchema).meta({ description: 'The primary pool, then each read replica (DATABASE_REPLICA_URLS)' }),
    warnings: z.array(z.string()),
    recommendations: z.object({ optimal_range: z.string(), current_config: z.string() }),
    counters: z.record(z.string(), int).optional(),
    acquire_time_ms: z.object({ p50: z.number().nullable(), p99: z.number().nullable() }).optional(),
    error: z.string().optional().meta({ description: 'With status error (503): the error code' }),
  })
  .meta({ id: 'PoolHealth' });

/** GET /api/health/db/test, 200 and 503. */
export const DbTestSchema = z
  .object({
    status: z.enum(['ok', 'error']),
    message: z.string(),
    test_result: z.object({ test: int, current_time: z.iso.datetime() }).optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'DbTest' });
