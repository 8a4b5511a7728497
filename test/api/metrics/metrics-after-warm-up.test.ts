import { poolStats, warmPool } from '../../../src/db';
import { api } from '../../helpers/api';
import { parseExposition } from '../../helpers/prometheus';

// main.ts warms the pool before it builds the app, and with it the metrics registry.
describe('GET /metrics after the pool was warmed first', () => {
  test('counts the connections opened before the registry existed', async () => {
    await warmPool();
    const opened = poolStats().total;
    expect(opened).toBeGreaterThan(0);
    const res = await api().get('/metrics');
    const created = parseExposition(res.text).samples.find((s) => s.name === 'db_client_connections_created_total');
    expect(created?.value).toBeGreaterThanOrEqual(opened);
  });

  test('the first scrape has every pool histogram, and the warm-up connections in the creation times', async () => {
    await warmPool();
    const opened = poolStats().total;
    const { samples } = parseExposition((await api().get('/metrics')).text);
    const count = (name: string) => samples.find((s) => s.name === `${name}_count`)?.value;
    expect(count('db_client_connection_create_time_seconds')).toBeGreaterThanOrEqual(opened);
    for (const name of ['db_client_connection_wait_time_seconds', 'db_client_connection_use_time_seconds', 'db_client_operation_duration_seconds']) {
      expect([name, count(name)]).toEqual([name, expect.any(Number)]);
    }
  });
});
