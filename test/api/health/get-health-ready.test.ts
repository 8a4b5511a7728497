import { closePool } from '../../../src/db';
import { api } from '../../helpers/api';
import { expectNoClientInUse, usePoolConfig } from '../../helpers/pool';

afterEach(() => closePool());

describe('GET /api/health/ready', () => {
  test('answers 200 ready when SELECT 1 answers through the pool', async () => {
    await usePoolConfig({});
    const res = await api().get('/api/health/ready');
    expect(res).toMatchObject({ status: 200, body: { status: 'ready' } });
    expectNoClientInUse();
  });

  test('answers 503 unavailable, without details, when the database cannot be reached', async () => {
    await usePoolConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_CONNECT_TIMEOUT_MS: '300' });
    const res = await api().get('/api/health/ready');
    expect(res).toMatchObject({ status: 503, body: { status: 'unavailable' } });
    expect(Object.keys(res.body)).toEqual(['status']);
  });
});
