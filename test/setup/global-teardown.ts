import { withAdminClient, TEMPLATE_DATABASE } from '../helpers/admin-db';

export default async function globalTeardown(): Promise<void> {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) return;
  await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`));
}
