import { executeQueryOne } from '../../db';

const PING = { name: 'health_ping', text: 'SELECT 1 AS ok' };
const TEST = { name: 'health_test', text: 'SELECT 1 AS test, NOW() AS current_time' };

/** One round trip through the pool. */
export async function pingDatabase(): Promise<void> {
  await executeQueryOne(PING);
}

/** The seed's connection test row. */
export async function selectTestRow(): Promise<{ test: number; current_time: Date }> {
  const row = await executeQueryOne<{ test: number; current_time: Date }>(TEST);
  if (!row) throw new Error('SELECT 1 returned no row');
  return row;
}

/** The server's connection limit and the slots it keeps for superusers (and, from PG 16, reserved roles). */
export async function readConnectionLimits(): Promise<{ maxConnections: number; reserved: number }> {
  const row = await executeQueryOne<{ max_connections: number; reserved: number }>(
    `SELECT current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int
              + COALESCE(NULLIF(current_setting('reserved_connections', TRUE), ''), '0')::int AS reserved`,
  );
  return { maxConnections: row?.max_connections ?? 0, reserved: row?.reserved ?? 0 };
}
