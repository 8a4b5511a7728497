// The ES module entry (import … from 'customer-api'): the CommonJS build's exports, by name
// (test/package checks this list against the CommonJS entry's).
import library from '../dist/index.js';

export const {
  configureDatabase,
  executeQuery,
  executeQueryOne,
  executeWrite,
  withTransaction,
  READ_REPLICA,
  startReplicas,
  replicaStats,
  getPool,
  closePool,
  poolStats,
  PoolExhaustedError,
  DatabaseUnavailableError,
  QueryTimeoutError,
  UniqueViolationError,
  ConfigError,
} = library;
export default library;
