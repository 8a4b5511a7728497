import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, getConfig, type Config } from './config/config';
import { closePool, startReplicas } from './db';
import { createHttpServer } from './http/server';
import { settleWithin } from './lib/settle-within';
import { getLogger } from './logging/logger';
import { connectRateLimitStore } from './http/rate-limit-store';
import { startHistoryPruning } from './modules/history';
import { startIdempotencyPruning } from './modules/idempotency';
import { startSessionPruning } from './modules/sessions';
import { runWorkers } from './process/cluster';
import { handleShutdown } from './process/shutdown';
import { prepare } from './process/startup';
import { startTracing } from './tracing/tracing';

// The entry: prepare the database (process/startup.ts), then serve here or fork workers
// (process/cluster.ts); a serving process shuts down gracefully (process/shutdown.ts).

function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

async function main(): Promise<void> {
  // Tracing (OTEL_EXPORTER_OTLP_ENDPOINT set) starts before the pool is built: its spans look for it then.
  const tracing = getConfig().tracing;
  if (tracing) startTracing(tracing);
  const { config, stopDatabase } = await prepare();
  if (cluster.isPrimary && config.webConcurrency > 1) {
    await closePool();
    runWorkers(config, stopDatabase);
    return;
  }
  // A Redis that is down does not stop the start: it only means no shared limit yet.
  await settleWithin(connectRateLimitStore(), 2000);
  const app = createApp();
  // Read replicas take reads once their first check has passed; until then (bounded) the primary serves them.
  await settleWithin(startReplicas(), config.db.connectTimeoutMs + 1000);
  const server = createHttpServer(app);
  await listen(server, config);
  // Idempotency keys past IDEMPOTENCY_KEY_TTL_S, history past HISTORY_RETENTION_DAYS and sessions that
  // ended are deleted once a minute, in small batches.
  startIdempotencyPruning();
  startHistoryPruning();
  startSessionPruning();
  handleShutdown(server, config, stopDatabase);
  getLogger().info({ port: config.port, host: config.host, pid: process.pid }, `customer-api listening on http://${config.host}:${config.port}`);
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `customer-api failed to start: ${err instanceof Error ? err.message : String(err)}`;
  process.stderr.write(`${message}\n`);
  void closePool(1000).finally(() => process.exit(1));
});
