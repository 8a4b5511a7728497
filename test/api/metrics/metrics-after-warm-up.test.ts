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
});
