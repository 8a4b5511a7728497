import { spawnSync } from 'node:child_process';

/**
 * `describe` for a group that needs something a machine may lack (a binary, a service, root). Without
 * it the group is skipped, saying why; jest counts its tests as skipped, and `.ci/run` fails on any
 * skip: on the project's machine kind every group must run.
 */
export function describeIf(available: boolean, group: string, missing: string): jest.Describe {
  if (!available) process.stdout.write(`\n${group}: skipped, ${missing}\n`);
  return available ? describe : describe.skip;
}

/** Whether something accepts TCP connections at 127.0.0.1:`port` now (asked synchronously, for describeIf). */
export function listeningOn(port: number): boolean {
  const probe = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 5000 }).status === 0;
}
