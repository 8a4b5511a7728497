import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app';
import { ConfigError, type Config } from './config/config';
import { applySessionSettingsToRole, closePool, migrate, prepareDatabase, startReplicas, startupSettingsRefused, warmPool } from './db';
import { markDraining } from './http/lifecycle';
import { createHttpServer } from './http/server';
import { getLogger } from './logging/logger';
import { connectRateLimitStore } from './modules/auth/login-rate-limit';
import { seedDemoCustomers } from './modules/customers/customers-demo';
import { startIdempotencyPruning } from './modules/idempotency';
import { readConnectionLimits } from './modules/health/health-repository';
import { DEFAULT_ADMIN_EMAIL, ensureAdmin } from './modules/users/users-bootstrap';

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

/**
 * The seed's sizing rule, across the deployment: instances × WEB_CONCURRENCY × max per process must stay
 * below the server's budget. Behind a pooler the API's connections end at the pooler, which holds its
 * own, smaller set: the rule is then the pooler's to keep (docs/operations.md: Behind PgBouncer).
 */
async function checkConnectionBudget(config: Config): Promise<void> {
  const { maxConnections, reserved } = await readConnectionLimits();
  const { instances } = config;
  const wanted = instances * config.webConcurrency * config.db.maxConnections;
  const budget = maxConnections - reserved;
  const numbers = { instances, webConcurrency: config.webConcurrency, poolMax: config.db.maxConnections, wanted, serverMax: maxConnections, reserved, budget };
  const how = `${instances > 1 ? `${instances} instance(s) × ` : ''}${config.webConcurrency} process(es) × ${config.db.maxConnections} = ${wanted}`;
  if (startupSettingsRefused()) {
    getLogger().info(numbers, `behind a pooler: ${how} client connections end at the pooler; size its max_client_conn for them`);
  } else if (wanted >= budget) {
    getLogger().warn(numbers, `connection budget exceeded: ${how}, but the server allows ${budget} (max_connections ${maxConnections} − ${reserved} reserved)`);
  } else {
    getLogger().info(numbers, `connection budget fits: ${how} of ${budget}`);
  }
}

function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

/** Resolves with the promise's outcome, or after `ms` with undefined, whichever comes first. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool, stop the embedded
 * database, exit 0 — all within one deadline, SHUTDOWN_TIMEOUT_MS (keep it below the orchestrator's
 * kill grace period). In-flight requests get 60 % of it, then their connections are closed; the
 * pool gets half of what is left (then its checked-out clients are ended); the database the rest.
 * Whatever still runs at the deadline, the process exits 1 there; so does a second signal.
 */
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
    const timeoutMs = config.shutdownTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown deadline reached: exiting now');
      process.exit(1);
    }, timeoutMs).unref();
    log.info({ signal, timeoutMs }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      log.warn('drain time is up: closing the connections of requests still in flight');
      server.closeAllConnections();
    }, timeoutMs * 0.6);
    // Keep-alive connections whose request finishes during the drain would otherwise stay open
    // until their keep-alive timeout; close each one as soon as it is idle.
    const reapIdle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(force);
      clearInterval(reapIdle);
      closePool(left() / 2)
        .then(() => within(stopDatabase(), left()))
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

/** The admin and the demo data, as CONFIG.md says (ADMIN_EMAIL, embedded defaults, SEED_DEMO_DATA). */
async function bootstrapData(config: Config): Promise<void> {
  const log = getLogger();
  const { adminEmail, adminPassword } = config.auth;
  if (adminEmail || config.db.embedded) {
    const outcome = await ensureAdmin(adminEmail ?? DEFAULT_ADMIN_EMAIL, adminPassword, { resetPassword: false });
    if (outcome.created) log.info({ email: outcome.email }, 'admin created');
    // Printed once, on the console only: the hash is all that is stored.
    if (outcome.generatedPassword) process.stdout.write(`\nAdmin login (shown once): ${outcome.email} / ${outcome.generatedPassword}\n\n`);
  }
  if (config.db.seedDemoData) {
    const inserted = await seedDemoCustomers();
    if (inserted > 0) log.info({ inserted }, 'demo customers loaded');
  }
}

/** Everything a process does before it serves: database, pool, budget, schema, data. */
async function prepare(): Promise<{ config: Config; stopDatabase: () => Promise<void> }> {
  const target = await prepareDatabase();
  const config = target.config;
  await warmPoolWithRetries(config);
  if (cluster.isPrimary) {
    await checkConnectionBudget(config);
    // Behind a pooler the session settings may not have reached the server: then they are written to the role.
    await applySessionSettingsToRole();
    if (config.db.migrateOnStart) {
      const applied = await migrate();
      getLogger().info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema is up to date');
    }
    await bootstrapData(config);
  }
  return { config, stopDatabase: target.stop };
}

/** WEB_CONCURRENCY > 1: the primary prepares the database once, then forks workers that each have a pool. */
function runWorkers(config: Config, stopDatabase: () => Promise<void>): void {
  const log = getLogger();
  // Workers use the primary's database (embedded or not) and leave migrations and seeding to it.
  const workerEnv = {
    DATABASE_URL: config.db.url,
    DB_MIGRATE_ON_START: 'false',
    SEED_DEMO_DATA: 'false',
    // Workers drain within 80 % of the deadline, so that the primary can still stop the database.
    SHUTDOWN_TIMEOUT_MS: String(Math.floor(config.shutdownTimeoutMs * 0.8)),
  };
  for (let i = 0; i < config.webConcurrency; i += 1) cluster.fork(workerEnv);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping workers');
    setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached: exiting now');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
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

async function main(): Promise<void> {
  const { config, stopDatabase } = await prepare();
  if (cluster.isPrimary && config.webConcurrency > 1) {
    await closePool();
    runWorkers(config, stopDatabase);
    return;
  }
  // A Redis that is down does not stop the start: it only means no shared limit yet.
  await within(connectRateLimitStore(), 2000);
  const app = createApp();
  // Read replicas take reads once their first check has passed; until then (bounded) the primary serves them.
  await within(startReplicas(), config.db.connectTimeoutMs + 1000);
  const server = createHttpServer(app);
  await listen(server, config);
  // Idempotency keys past IDEMPOTENCY_KEY_TTL_S are deleted once a minute, in small batches.
  startIdempotencyPruning();
  handleShutdown(server, config, stopDatabase);
  getLogger().info({ port: config.port, host: config.host, pid: process.pid }, `customer-api listening on http://${config.host}:${config.port}`);
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `customer-api failed to start: ${err instanceof Error ? err.message : String(err)}`;
  process.stderr.write(`${message}\n`);
  void closePool(1000).finally(() => process.exit(1));
});
