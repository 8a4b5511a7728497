import { getConfig, type Config } from '../config/config';
import { getLogger } from '../logging/logger';
import { startEmbeddedDatabase } from './embedded';

export interface DatabaseTarget {
  readonly config: Config;
  /** Stops the embedded server (after the pool is closed); nothing for an external database. */
  stop: () => Promise<void>;
}

/**
 * Decides which database this process uses. Without DATABASE_URL (and PGHOST) outside production,
 * an embedded PostgreSQL is started; the config it returns points at it (the caller makes it the
 * process's config, before the pool is first built).
 */
export async function prepareDatabase(): Promise<DatabaseTarget> {
  const config = getConfig();
  const log = getLogger();
  if (!config.db.embedded) {
    log.info({ database: 'external' }, 'using the database at DATABASE_URL');
    return { config, stop: () => Promise.resolve() };
  }
  const started = Date.now();
  const embedded = await startEmbeddedDatabase(config.db.embeddedDir, (message) => log.info(message), { relocatable: config.db.embeddedDirIsDefault });
  const next: Config = Object.freeze({ ...config, db: Object.freeze({ ...config.db, url: embedded.url }) });
  log.info(
    { database: 'embedded', dataDir: embedded.dataDir, port: embedded.port, startMs: Date.now() - started },
    `using the embedded PostgreSQL on 127.0.0.1:${embedded.port}, files in ${embedded.dataDir}`,
  );
  return { config: next, stop: () => embedded.stop() };
}
