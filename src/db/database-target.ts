import { getConfig, setConfig, type Config } from '../config/config';
import { describeDatabaseUrl } from '../config/database-url';
import { getLogger } from '../logging/logger';
import { startEmbeddedDatabase } from './embedded';

interface DatabaseTarget {
  readonly config: Config;
  /** Where it is, for a person: host:port/database (never a password), and the embedded server's files. */
  readonly where: string;
  /** Stops the embedded server (after the pool is closed); nothing for an external database. */
  stop: () => Promise<void>;
}

/**
 * Decides which database this process uses. Without DATABASE_URL (and PGHOST) outside production,
 * an embedded PostgreSQL is started, and the process's config points at it from then on (before the
 * pool is first built): the server and every CLI go through here.
 */
export async function prepareDatabase(): Promise<DatabaseTarget> {
  const config = getConfig();
  const log = getLogger();
  if (!config.db.embedded) {
    const where = config.db.url ? describeDatabaseUrl(config.db.url) : 'PGHOST (libpq environment variables)';
    log.info({ database: 'external', where }, `using the database at ${where}`);
    return { config, where, stop: () => Promise.resolve() };
  }
  const started = Date.now();
  const embedded = await startEmbeddedDatabase(config.db.embeddedDir, (message) => log.info(message), { relocatable: config.db.embeddedDirIsDefault, avoidPort: config.port });
  const next: Config = Object.freeze({ ...config, db: Object.freeze({ ...config.db, url: embedded.url }) });
  setConfig(next);
  log.info(
    { database: 'embedded', dataDir: embedded.dataDir, port: embedded.port, startMs: Date.now() - started },
    `using the embedded PostgreSQL on 127.0.0.1:${embedded.port}, files in ${embedded.dataDir}`,
  );
  return { config: next, where: `the embedded PostgreSQL on 127.0.0.1:${embedded.port} (files in ${embedded.dataDir})`, stop: () => embedded.stop() };
}
