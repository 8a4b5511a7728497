import { loadConfig, setConfig } from '../../../src/config/config';
import { executeQuery, poolStats, warmPool, withTransaction } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser } from '../../helpers/factories';
import { familyOf, parseExposition } from '../../helpers/prometheus';

async function scrape() {
  const res = await api().get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

const value = (samples: ReturnType<typeof parseExposition>['samples'], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('GET /metrics', () => {
  test('is valid exposition format, with the expected names and types', async () => {
    const { types, samples } = await scrape();
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('db_') || name.startsWith('http_')))).toEqual({
      db_client_connection_count: 'gauge',
      db_client_connection_max: 'gauge',
      db_client_connection_idle_min: 'gauge',
      db_client_connection_pending_requests: 'gauge',
      db_client_connection_usage_ratio: 'gauge',
      db_client_connection_timeouts_total: 'counter',
      db_client_connection_queue_full_rejections_total: 'counter',
      db_client_connections_created_total: 'counter',
      db_client_connections_destroyed_total: 'counter',
      db_client_connection_leaks_total: 'counter',
      db_client_connection_errors_total: 'counter',
      db_client_connection_wait_time_seconds: 'histogram',
      db_client_connection_use_time_seconds: 'histogram',
      db_client_connection_create_time_seconds: 'histogram',
      db_client_operation_duration_seconds: 'histogram',
      db_pool_host_switches_total: 'counter',
      db_pool_host_up: 'gauge',
      db_replica_lag_seconds: 'gauge',
      db_replica_healthy: 'gauge',
      http_server_request_duration_seconds: 'histogram',
    });
    expect(types.get('process_resident_memory_bytes')).toBe('gauge');
    for (const sample of samples) expect([sample.name, familyOf(sample.name, types)]).toEqual([sample.name, expect.any(String)]);
  });

  test('pool numbers agree with poolStats()', async () => {
    await warmPool();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = withTransaction(() => gate);
    await new Promise((r) => setTimeout(r, 20));
    const { samples } = await scrape();
    const stats = poolStats();
    open();
    await held;
    expect(stats.in_use).toBe(1);
    expect(value(samples, 'db_client_connection_count', { state: 'used' })).toBe(stats.in_use);
    expect(value(samples, 'db_client_connection_count', { state: 'idle' })).toBe(stats.available);
    expect(value(samples, 'db_client_connection_max')).toBe(stats.max_connections);
    expect(value(samples, 'db_client_connection_idle_min')).toBe(stats.min_connections);
    expect(value(samples, 'db_client_connection_pending_requests')).toBe(stats.waiting);
    expect(value(samples, 'db_client_connections_created_total')).toBeGreaterThanOrEqual(stats.total);
  });

  test('query durations are labelled by operation; HTTP durations by route template, never a raw id', async () => {
    const { auth } = await createUser();
    const customer = await createCustomer();
    await executeQuery('SELECT 1');
    expect((await api().get(`/api/customers/${customer.id}`).set('Authorization', auth)).status).toBe(200);
    expect((await api().get('/api/customers/999999').set('Authorization', auth)).status).toBe(404);
    const { samples } = await scrape();
    const routes = new Set(samples.filter((s) => s.name === 'http_server_request_duration_seconds_count').map((s) => s.labels.http_route));
    expect(routes).toContain('/api/customers/:id');
    expect([...routes].some((r) => /\d/.test(r ?? ''))).toBe(false);
    expect(value(samples, 'http_server_request_duration_seconds_count', { http_route: '/api/customers/:id', http_response_status_code: '404', http_request_method: 'GET' })).toBe(1);
    expect(value(samples, 'db_client_operation_duration_seconds_count', { db_operation_name: 'SELECT' })).toBeGreaterThan(0);
    expect(value(samples, 'db_client_connection_wait_time_seconds_count')).toBeGreaterThan(0);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  test('requires the token as a Bearer token', async () => {
    setConfig(loadConfig({ ...process.env, METRICS_TOKEN: 'scrape-secret' }));
    expectApiError(await api().get('/metrics'), 401, 'UNAUTHORIZED');
    expectApiError(await api().get('/metrics').set('Authorization', 'Bearer wrong'), 401, 'UNAUTHORIZED');
    expect((await api().get('/metrics').set('Authorization', 'Bearer scrape-secret')).status).toBe(200);
  });
});
