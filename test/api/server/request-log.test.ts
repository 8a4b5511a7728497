import { connect } from 'node:net';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { freePort, startServer, stopServer, waitForHealth, waitForOutput, type ServerProcess } from '../../helpers/server-process';

let caller: TestUser;
let customerId: number;
let server: ServerProcess;

beforeAll(async () => {
  caller = await createUser();
  customerId = (await createCustomer({ name: 'Logged Customer', notes: 'secret-note-value' })).id;
  server = startServer(
    { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', DB_SLOW_QUERY_MS: '0', DB_MIGRATE_ON_START: 'false' },
    await freePort(),
  );
  await waitForHealth(server);
});

afterAll(async () => {
  await stopServer(server);
});

const lines = () =>
  server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('logs (LOG_LEVEL=info)', () => {
  test('one structured line per request: id, route template, status, duration, user id; no token', async () => {
    const res = await fetch(`${server.base}/api/customers/${customerId}`, { headers: { authorization: caller.auth, 'x-request-id': 'log-test-1' } });
    expect(res.status).toBe(200);
    await waitForOutput(server, /"reqId":"log-test-1".*"msg":"request completed"/);
    const line = lines().find((l) => l.reqId === 'log-test-1' && l.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', route: '/api/customers/:id', status: 200, durationMs: expect.any(Number), userId: caller.user.id });
    expect(server.output()).not.toContain(caller.auth.slice(7));
  });

  test('a query slower than DB_SLOW_QUERY_MS is logged at warn with its SQL, never its parameters', async () => {
    const res = await fetch(`${server.base}/api/customers/${customerId}`, { headers: { authorization: caller.auth, 'x-request-id': 'log-test-2' } });
    expect(res.status).toBe(200);
    await waitForOutput(server, /"reqId":"log-test-2".*"msg":"request completed"/);
    const slow = lines().filter((l) => l.msg === 'slow query' && String(l.sql).includes('FROM customers WHERE id = $1'));
    expect(slow.length).toBeGreaterThan(0);
    expect(slow[0]).toMatchObject({ level: 40, durationMs: expect.any(Number) });
    expect(Object.keys(slow[0]!).sort()).toEqual(['durationMs', 'level', 'msg', 'service', 'sql', 'time']);
    expect(server.output()).not.toContain('secret-note-value');
  });

  test('a failed login does not log the password', async () => {
    const res = await fetch(`${server.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-login-1' },
      body: JSON.stringify({ email: 'x@example.com', password: 'hunter2-password' }),
    });
    expect(res.status).toBe(401);
    // The request's own lines are written (so the absence below means something), and carry no password.
    await waitForOutput(server, /"reqId":"log-login-1".*"msg":"request completed"/);
    const own = lines().filter((l) => l.reqId === 'log-login-1');
    expect(own.map((l) => l.msg)).toEqual(expect.arrayContaining(['request rejected', 'request completed']));
    expect(server.output()).not.toContain('hunter2-password');
  });

  test('a request the client abandons is logged as aborted, at warn', async () => {
    // Headers and half of the promised body, then the client goes away.
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /api/customers HTTP/1.1\r\nHost: x\r\nAuthorization: ${caller.auth}\r\nX-Request-Id: log-abort-1\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await waitForOutput(server, /"reqId":"log-abort-1".*"msg":"request aborted"/);
    const line = lines().find((l) => l.reqId === 'log-abort-1' && l.msg === 'request aborted');
    expect(line).toMatchObject({ level: 40, method: 'POST', status: 400, durationMs: expect.any(Number) });
    // A client that hangs up is not a server error.
    expect(lines().filter((l) => l.reqId === 'log-abort-1' && Number(l.level) >= 50)).toEqual([]);
  });
});

describe('standard output is buffered (LOG_SYNC unset)', () => {
  const env = () => ({ DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', DB_MIGRATE_ON_START: 'false' });

  test('a line reaches the output within the flush interval when nothing else is written', async () => {
    const started = Date.now();
    const res = await fetch(`${server.base}/api/health`, { headers: { 'x-request-id': 'log-idle-1' } });
    expect(res.status).toBe(200);
    // LOG_FLUSH_MS is 100; the margin is for a loaded machine. Nothing else fills the 4 KB buffer here.
    await waitForOutput(server, /"reqId":"log-idle-1".*"msg":"request completed"/, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test.each([
    ['buffered', {}],
    ['LOG_SYNC=true', { LOG_SYNC: 'true' }],
  ])('%s: every line is whole, and the lines written just before exit are not lost', async (_name, extra) => {
    const own = startServer({ ...env(), ...extra }, await freePort());
    try {
      await waitForHealth(own);
      const ids = Array.from({ length: 40 }, (_, i) => `log-exit-${i}`);
      await Promise.all(ids.map((id) => fetch(`${own.base}/api/health`, { headers: { 'x-request-id': id } })));
      // "shutdown complete" is written in the same tick as process.exit(): only the flush at exit can write it.
      expect(await stopServer(own)).toBe(0);
      const out = own.output().split('\n').filter((l) => l.startsWith('{'));
      const parsed = out.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parsed.filter((l) => ids.includes(String(l.reqId))).map((l) => l.reqId).sort()).toEqual([...ids].sort());
      expect(parsed.at(-1)).toMatchObject({ msg: 'shutdown complete' });
    } finally {
      await stopServer(own);
    }
  });
});
