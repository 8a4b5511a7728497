import { executeQueryOne } from '../../db';

const PING = { name: 'health_ping', text: 'SELECT 1 AS ok' };
const TEST = { name: 'health_test', text: 'SELECT 1 AS test, NOW() AS current_time' };

/** One round trip through the pool. */
export async function pingDatabase(): Promise<void> {
  await executeQueryOne(PING);
}

/** The connection test's row (GET /api/health/db/test): 1 and the server's time. */
export async function selectTestRow(): Promise<{ test: number; current_time: Date }> {
  const row = await executeQueryOne<{ test: number; current_time: Date }>(TEST);
  if (!row) throw new Error('SELECT 1 returned no row');
  return row;
}
