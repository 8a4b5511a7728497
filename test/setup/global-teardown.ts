import { rm } from 'node:fs/promises';
import { TEMPLATE_DATABASE, withAdminClient } from '../helpers/admin-db';
import { takeEmbeddedForTeardown } from './embedded-handle';

export default async function globalTeardown(): Promise<void> {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (url) await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`));
  const embedded = takeEmbeddedForTeardown();
  if (embedded) {
    await embedded.stop();
    await rm(embedded.dir, { recursive: true, force: true });
  }
}
