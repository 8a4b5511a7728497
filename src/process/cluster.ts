import cluster from 'node:cluster';
import type { Config } from '../config/config';
import { getLogger } from '../logging/logger';
import { ShutdownDeadline, WORKER_SHARE } from './deadline';

/**
 * WEB_CONCURRENCY > 1: after the primary has prepared the database once, it forks workers that each
 * have a pool, restarts one that dies, and on a signal stops them all within the same deadline rule.
 */
export function runWorkers(config: Config, stopDatabase: () => Promise<void>): void {
  const log = getLogger();
  // Workers use the primary's database (embedded or not) and leave migrations and seeding to it.
  const workerEnv = {
    DATABASE_URL: config.db.url,
    DB_MIGRATE_ON_START: 'false',
    SEED_DEMO_DATA: 'false',
    SHUTDOWN_TIMEOUT_MS: String(Math.floor(config.shutdownTimeoutMs * WORKER_SHARE)),
  };
  for (let i = 0; i < config.webConcurrency; i += 1) cluster.fork(workerEnv);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping workers');
    new ShutdownDeadline(config.shutdownTimeoutMs);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      log.error({ pid: worker.process.pid, code }, 'worker exited; starting another');
      cluster.fork(workerEnv);
    } else if (Object.keys(cluster.workers ?? {}).length === 0) {
      void stopDatabase().finally(() => process.exit(0));
    }
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
