import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app';
import { ConfigError, getConfig, type Config } from './config/config';
import { closePool, warmPool } from './db';
import { migrate } from './db/migrate';
import { markDraining } from './http/lifecycle';
import { getLogger } from './logging/logger';
import { readConnectionLimits } from './modules/health/health-repository';

const MAX_BACKOFF_MS = 5000;

/** Opens the minimum connections, retrying with exponential backoff per DB_STARTUP_RETRIES. */
async function warmPoolWithRetries(config: Config): Promise<void> {
  const log = getLogger();
  for (let attempt = 1; ; attempt += 1) {
    try {
      await warmPool();
      return;
    } catch (err) {
      const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      if (attempt >= config.db.startupRetries) {
        throw new Error(`cannot reach the database after ${attempt} attempt(s): ${reason}`, { cause: err });
      }
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (attempt - 1));
      log.warn({ attempt, of: config.db.startupRetries, retryInMs: delay, reason }, 'database not reachable yet');
      await sleep(delay);
    }
  }
}

/** The seed's sizing rule: WEB_CONCURRENCY × max per process must stay below the server's budget. */
async function checkConnectionBudget(config: Config): Promise<void> {
  const { maxConnections, reserved } = await readConnectionLimits();
  const wanted = config.webConcurrency * config.db.maxConnections;
  const budget = maxConnections - reserved;
  const numbers = { webConcurrency: config.webConcurrency, poolMax: config.db.maxConnections, wanted, serverMax: maxConnections, reserved, budget };
  if (wanted >= budget) {
    getLogger().warn(numbers, `connection budget exceeded: ${config.webConcurrency} process(es) × ${config.db.maxConnections} = ${wanted}, but the server allows ${budget} (max_connections ${maxConnections} − ${reserved} reserved)`);
  } else {
    getLogger().info(numbers, 'connection budget fits');
  }
}

function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

/** SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool, exit 0. A second signal forces the exit. */
function handleShutdown(server: Server, config: Config, stopDatabase: () => Promise<void>): void {
  const log = getLogger();
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    markDraining();
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      log.warn('drain timeout reached: closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      closePool()
        .then(stopDatabase)
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

async function main(): Promise<void> {
  const config = getConfig();
  const log = getLogger();
  const stopDatabase = async (): Promise<void> => {};
  await warmPoolWithRetries(config);
  await checkConnectionBudget(config);
  if (config.db.migrateOnStart) {
    const applied = await migrate();
    log.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema is up to date');
  }
  const server = createServer(createApp());
  await listen(server, config);
  handleShutdown(server, config, stopDatabase);
  log.info({ port: config.port, host: config.host, envFile: config.envFile }, `customer-api listening on http://${config.host}:${config.port}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`customer-api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  void closePool(1000).finally(() => process.exit(1));
});
