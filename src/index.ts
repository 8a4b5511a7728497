// The library entry: the pooled query helpers and their types.
export {
  executeQuery,
  executeQueryOne,
  executeWrite,
  withTransaction,
  getPool,
  closePool,
  poolStats,
  PoolExhaustedError,
  DatabaseUnavailableError,
  QueryTimeoutError,
  UniqueViolationError,
  type DbClient,
  type PoolStats,
  type Sql,
  type WriteResult,
} from './db';
