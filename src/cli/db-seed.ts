// npm run db:seed [-- --demo]: the admin from ADMIN_EMAIL/ADMIN_PASSWORD (password reset when it
// exists), and with --demo (or SEED_DEMO_DATA=true) the demo customers into an empty table.
import { getConfig } from '../config/config';
import { migrate } from '../db';
import { getLogger } from '../logging/logger';
import { seedDemoCustomers } from '../modules/customers';
import { ensureAdmin } from '../modules/users';
import { runCli } from './run-cli';

runCli(async () => {
  const config = getConfig();
  const log = getLogger();
  await migrate();
  const { adminEmail, adminPassword } = config.auth;
  if (adminEmail) {
    const outcome = await ensureAdmin(adminEmail, adminPassword, { resetPassword: true });
    log.info({ email: outcome.email }, outcome.created ? 'admin created' : adminPassword ? 'admin password reset' : 'admin exists');
    if (outcome.generatedPassword) process.stdout.write(`Admin ${outcome.email} password: ${outcome.generatedPassword}\n`);
  } else {
    log.info('ADMIN_EMAIL is not set: no admin to create');
  }
  if (process.argv.includes('--demo') || config.db.seedDemoData) {
    const inserted = await seedDemoCustomers();
    log.info({ inserted }, inserted > 0 ? 'demo customers loaded' : 'customers exist: demo data not loaded');
  }
});
