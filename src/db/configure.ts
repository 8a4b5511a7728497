import { ConfigError, configureLibrary } from '../config/config';
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
  const unknown = Object.keys(variables).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new ConfigError(unknown.map((key) => `${key}: is not a setting of the data layer (docs/configuration.md)`));
  configureLibrary(variables);
  if (logger) useLogger(logger);
}
