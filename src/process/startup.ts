import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/config';
import { applySessionSettingsToRole, migrate, prepareDatabase, readConnectionLimits, startupSettingsRefused, warmPool } from '../db';
import { backoffMs } from '../lib/backoff';
import { getLogger } from '../logging/logger';
import { seedDemoCustomers } from '../modules/customers';
import { DEFAULT_ADMIN_EMAIL, ensureAdmin } from '../modules/users';

const BACKOFF = { baseMs: 250, maxMs: 5000 };

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
      const delay = backoffMs(attempt, BACKOFF);
      log.warn({ attempt, of: config.db.startupRetries, retryInMs: delay, reason }, 'database not reachable yet');
      await sleep(delay);
    }
  }
}

/**
 * The sizing rule of docs/operations.md, across the deployment: instances × WEB_CONCURRENCY × max per process must stay
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

/** The admin and the demo data, as docs/configuration.md says (ADMIN_EMAIL, embedded defaults, SEED_DEMO_DATA). */
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
export async function prepare(): Promise<{ config: Config; stopDatabase: () => Promise<void> }> {
  // The database decided (the embedded one's URL): the process's config from now on.
  const target = await prepareDatabase();
  const config = target.config;
  if (cluster.isPrimary) for (const notice of config.notices) getLogger().warn(notice);
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

