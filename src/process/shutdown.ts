import type { Server } from 'node:http';
import type { Config } from '../config/config';
import { closePool } from '../db';
import { settleKeyUses } from '../modules/keys';
import { markDraining } from '../http/lifecycle';
import { settleWithin } from '../lib/settle-within';
import { getLogger } from '../logging/logger';
import { stopTracing } from '../tracing/tracing';
import { DRAIN_SHARE, ShutdownDeadline } from './deadline';

/** The longest the shutdown waits for the last spans to reach the collector. */
const TRACE_FLUSH_MS = 2000;

/**
 * SIGTERM/SIGINT in a serving process: stop accepting, finish in-flight requests, close the pool, stop
 * the embedded database, exit 0 — all within SHUTDOWN_TIMEOUT_MS (keep it below the orchestrator's kill
 * grace period; ShutdownDeadline shares it out). In-flight requests past their share have their
 * connections closed; a second signal exits 1 at once.
 */
export function handleShutdown(server: Server, config: Config, stopDatabase: () => Promise<void>): void {
  const log = getLogger();
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    markDraining();
    const deadline = new ShutdownDeadline(config.shutdownTimeoutMs);
    log.info({ signal, timeoutMs: deadline.totalMs }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      log.warn('drain time is up: closing the connections of requests still in flight');
      server.closeAllConnections();
    }, deadline.share(DRAIN_SHARE));
    // Keep-alive connections whose request finishes during the drain would otherwise stay open
    // until their keep-alive timeout; close each one as soon as it is idle.
    const reapIdle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(force);
      clearInterval(reapIdle);
      // A key's last use being written (at most one per key a minute) finishes before the pool closes.
      settleWithin(settleKeyUses(), deadline.left() / 4)
        .then(() => closePool(deadline.left() / 2))
        // The spans still batched (tracing on) are sent meanwhile, for at most TRACE_FLUSH_MS: a collector
        // that does not answer (the exporter retries) must not hold a rolling deploy for the whole deadline.
        .then(() => Promise.all([settleWithin(stopDatabase(), deadline.left()), settleWithin(stopTracing(), Math.min(deadline.left(), TRACE_FLUSH_MS))]))
        .then(() => {
          log.info('shutdown complete');
          process.exit(0);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'error during shutdown');
          process.exit(1);
        });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
