import { closePool, getPool, poolStats, withTransaction } from '../../src/db';
import { loadConfig, setConfig } from '../../src/config/config';
import { adminUrl, withAdminClient } from './admin-db';

/** Rebuilds the pool with these environment overrides (the next getPool() uses them). */
export async function usePoolConfig(overrides: Record<string, string>): Promise<void> {
  await closePool();
  setConfig(loadConfig({ ...process.env, ...overrides }));
}

/** Backends of this test file's pool, as the server sees them. */
export async function countBackends(applicationName = process.env.DB_APPLICATION_NAME ?? ''): Promise<number> {
  return withAdminClient(adminUrl(), async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    return rows[0]?.n ?? 0;
  });
}

/** Every client checked out has been given back, and nobody waits. */
export function expectNoClientInUse(): void {
  expect(poolStats().in_use).toBe(0);
  expect(getPool().waitingCount).toBe(0);
}

/** Holds `n` clients checked out (inside transactions, as slow requests would) until release(). */
export async function holdClients(n: number): Promise<() => Promise<void>> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  // Counted once each transaction has its client: in_use alone also counts clients still
  // connecting, and a fresh pool's first TLS attempt (DB_SSLMODE=prefer) can fail and free its slot.
  let entered = 0;
  const held = Array.from({ length: n }, () =>
    withTransaction(() => {
      entered += 1;
      return gate;
    }),
  );
  while (entered < n) await new Promise((r) => setTimeout(r, 5));
  return async () => {
    open();
    await Promise.all(held);
  };
}
