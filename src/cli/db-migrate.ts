// npm run db:migrate: applies pending migrations to DATABASE_URL (or the embedded database).
import { runCli } from './run-cli';
import { migrate } from '../db';
import { getLogger } from '../logging/logger';

runCli(async () => {
  const applied = await migrate();
  getLogger().info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : 'schema is up to date');
});
