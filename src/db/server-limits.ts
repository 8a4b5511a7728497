import { executeQueryOne } from './query';

/** The server's connection limit and the slots it keeps for superusers (and, from PG 16, reserved roles). */
export async function readConnectionLimits(): Promise<{ maxConnections: number; reserved: number }> {
  const row = await executeQueryOne<{ max_connections: number; reserved: number }>(
    `SELECT current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int
              + COALESCE(NULLIF(current_setting('reserved_connections', TRUE), ''), '0')::int AS reserved`,
  );
  return { maxConnections: row?.max_connections ?? 0, reserved: row?.reserved ?? 0 };
}
