// The db folder's public face: other folders import the data layer only from here.
export { configureDatabase, type DatabaseSettings } from './configure';
export { getPool, closePool, poolStats, primaryHostStats, warmPool, startupSettingsRefused, currentTelemetry, type PoolStats } from './pool';
export { addTelemetryListener } from './pool-factory';
export { refreshDbTracer } from './db-tracing';
export { applySessionSettingsToRole } from './role-settings';
export { readConnectionLimits } from './server-limits';
export { PAGE_KEYS, sortKey } from './page-keys';
export { queryPage, buildPageQuery, COUNT_CAP, type Page, type PageQuery, type PageSort, type PageStart } from './page-query';
export { executeQuery, executeQueryOne, executeWrite, withTransaction, changeAs, READ_REPLICA, type DbClient, type DbTarget, type Sql, type TransactionActor, type TransactionOptions, type WriteResult } from './query';
export { queryBatches, copyTo, copyFrom, inlineParams, setStatementLimits, type LongStatementOptions, type ReadStatementOptions } from './streams';
export { CLIENT_TIMEOUT_MARGIN_MS } from './pool-factory';
export { startReplicas, replicaStats, replicaPoolName, type ReplicaStats } from './replicas';
export {
  PoolExhaustedError,
  DatabaseUnavailableError,
  QueryTimeoutError,
  UniqueViolationError,
  isConnectionLevelError,
  classifyDbError,
  type DbErrorKind,
} from './db-errors';
export { migrate, migrationStatus, readMigrations, MigrationError, type Migration } from './migrate';
export { prepareDatabase } from './database-target';
