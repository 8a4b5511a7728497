import { spawn, spawnSync } from 'node:child_process';
import { prettyLogs } from '../../../src/logging/logger';
import { freePort, MAIN } from '../../helpers/server-process';

/** Starts the built server with stdout on a terminal (script(1) gives it one) or a pipe; returns its first output lines. */
async function startupOutput(terminal: boolean, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const command = terminal ? ['script', ['-qfec', `${process.execPath} ${MAIN}`, '/dev/null']] : [process.execPath, [MAIN]];
  const child = spawn(command[0] as string, command[1] as string[], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: process.env.DATABASE_URL!,
      JWT_SECRET: process.env.JWT_SECRET!,
      DB_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 200 && !output.includes('listening on'); i += 1) await new Promise((r) => setTimeout(r, 50));
  // script(1) does not pass a signal on: its own child (the server) gets it directly.
  if (terminal) spawnSync('pkill', ['-TERM', '-P', String(child.pid)]);
  child.kill('SIGTERM');
  await exited;
  return output;
}

const listeningLine = (output: string) => output.split(/\r?\n/).find((l) => l.includes('listening on')) ?? '';

describe('console logs', () => {
  test('development at a terminal: readable lines, not JSON', async () => {
    const line = listeningLine(await startupOutput(true, { NODE_ENV: 'development' }));
    expect(line).toContain('customer-api listening on');
    expect(line.trim().startsWith('{')).toBe(false);
  });

  test('development into a pipe: JSON lines', async () => {
    const line = listeningLine(await startupOutput(false, { NODE_ENV: 'development' }));
    expect(JSON.parse(line)).toMatchObject({ msg: expect.stringContaining('listening on') });
  });

  test('LOG_PRETTY=false forces JSON at a terminal', async () => {
    const line = listeningLine(await startupOutput(true, { NODE_ENV: 'development', LOG_PRETTY: 'false' }));
    expect(line.trim().startsWith('{')).toBe(true);
  });

  test('the rule: production is JSON unless LOG_PRETTY=true forces readable lines', () => {
    expect(prettyLogs(undefined, 'production', true)).toBe(false);
    expect(prettyLogs(undefined, 'test', true)).toBe(false);
    expect(prettyLogs(true, 'production', false)).toBe(true);
    expect(prettyLogs(undefined, 'development', false)).toBe(false);
  });
});
