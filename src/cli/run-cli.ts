import { ConfigError } from '../config/config';
import { closePool, prepareDatabase } from '../db';

/**
 * Runs a database command on the configured (or embedded) database, then closes everything. `work`
 * may return the exit code (0 when it returns nothing); a failure prints one line and exits 1.
 */
export function runCli(work: (where: string) => Promise<number | void>): void {
  let stopDatabase = (): Promise<void> => Promise.resolve();
  prepareDatabase()
    .then(async (target) => {
      stopDatabase = target.stop;
      return (await work(target.where)) ?? 0;
    })
    .then(
      (code) => code,
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
