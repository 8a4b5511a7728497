import { rm } from 'node:fs/promises';
import { templateDatabase, withAdminClient } from '../helpers/admin-db';
import { takeEmbeddedForTeardown } from './embedded-handle';

export default async function globalTeardown(): Promise<void> {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (url && process.env.TEST_TEMPLATE_DATABASE) await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${templateDatabase()} WITH (FORCE)`));
  const embedded = takeEmbeddedForTeardown();
  if (embedded) {
    await embedded.stop();
    await rm(embedded.dir, { recursive: true, force: true });
  }
}
