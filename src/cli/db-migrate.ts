// npm run db:migrate [-- --status] [-- --with <dir>]: applies pending migrations to DATABASE_URL (or the
// embedded database). --status lists applied and pending ones and exits 1 when one is pending (or an
// applied one changed), for deploy scripts. --with adds the .sql files of another folder, ordered by name
// among the shipped ones (a deployment's own migrations; the upgrade benchmark's test migrations).
import { parseArgs } from 'node:util';
import { runCli } from './run-cli';
import { migrate, migrationStatus, readMigrations } from '../db';
import { getLogger } from '../logging/logger';

const USAGE = 'usage: npm run db:migrate [-- [--status] [--with <dir>]]';

function options(): { status: boolean; with: string | undefined } {
  try {
    const { values } = parseArgs({ options: { status: { type: 'boolean', default: false }, with: { type: 'string' } } });
    return { status: values.status, with: values.with };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const opts = options();

runCli(async (where) => {
  const migrations = readMigrations();
  if (opts.with) {
    const shipped = new Set(migrations.map((m) => m.name));
    const extra = readMigrations(opts.with);
    const clash = extra.find((m) => shipped.has(m.name));
    if (clash) throw new Error(`--with ${opts.with}: ${clash.name} has the name of a shipped migration`);
    migrations.push(...extra);
    migrations.sort((a, b) => (a.name < b.name ? -1 : 1));
  }
  if (!opts.status) {
    const applied = await migrate(migrations);
    getLogger().info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : 'schema is up to date');
    return 0;
  }
  const status = await migrationStatus(migrations);
  const lines = [
    `database: ${where}`,
    ...status.applied.map((m) => `applied  ${m.name}  ${m.applied_at}`),
    ...status.pending.map((name) => `pending  ${name}`),
    ...status.problems.map((p) => `error    ${p}`),
    `${status.applied.length} applied, ${status.pending.length} pending`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return status.pending.length > 0 || status.problems.length > 0 ? 1 : 0;
});
