import { ConfigError } from '../config/config';
import { closePool, prepareDatabase } from '../db';

/** Runs a database command on the configured (or embedded) database, then closes everything. */
export function runCli(work: () => Promise<void>): void {
  let stopDatabase = (): Promise<void> => Promise.resolve();
  prepareDatabase()
    .then(async (target) => {
      stopDatabase = target.stop;
      await work();
    })
    .then(
      () => 0,
      (err: unknown) => {
        process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `failed: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      },
    )
    .then(async (code) => {
      await closePool();
      await stopDatabase();
      process.exit(code);
    })
    .catch(() => process.exit(1));
}
