import { ConfigError, loadDbConfigWith, setLibraryConfig, type LibraryConfig } from '../config/config';
import { DbEnvSchema, type DbEnv } from '../config/env-schema';
import { useLogger, type LoggerLike } from '../logging/logger';
import { poolBuilt } from './pool';

/**
 * The data layer's settings in code: the environment variables' own names and meanings
 * (`DATABASE_URL`, `DB_POOL_MAX_CONNECTIONS`, …; docs/configuration.md), plus a logger of your own.
 */
export type DatabaseSettings = { readonly [K in keyof DbEnv]?: string | number | boolean } & {
  /** pino, or a logger with pino's calls: the data layer's lines go there. */
  readonly logger?: LoggerLike;
};

const KNOWN = new Set(Object.keys(DbEnvSchema.shape));

/**
 * Configures the query helpers in code, before the first query (or after closePool()): validated as
 * the environment is, with the same errors (ConfigError, a line per bad setting, no secret printed);
 * what is not given comes from the environment. Without a call, the environment alone configures them.
 * @example configureDatabase({ DATABASE_URL: 'postgres://app@db/app', DB_POOL_MAX_CONNECTIONS: 5, logger });
 */
export function configureDatabase(settings: DatabaseSettings): void {
  if (poolBuilt()) throw new Error('configureDatabase: call it before the first query (or after closePool())');
  const { logger, ...variables } = settings;
  // Every problem at once, as at start-up: unknown names, then bad values.
  const problems = Object.keys(variables)
    .filter((key) => !KNOWN.has(key))
    .map((key) => `${key}: is not a setting of the data layer (docs/configuration.md)`);
  let config: LibraryConfig | undefined;
  try {
    config = loadDbConfigWith(Object.fromEntries(Object.entries(variables).filter(([key]) => KNOWN.has(key))));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  setLibraryConfig(config);
  if (logger) useLogger(logger);
}
