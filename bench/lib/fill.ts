import { withAdminClient } from '../../test/helpers/admin-db';

// Turkish names, companies and cities with a skew, spread over three years of created_at: 15 first
// names (each 6.7 % of rows), 17 surnames of which Yılmaz and Kaya are 3/21 each (14.3 %, as in a real
// Turkish customer base: the common terms a search box gets), the others 1/21 (4.8 %). City and status
// are hashed from the row number, independent of the name and of each other (a walk of the name order
// meets them as often as anywhere).
const FILL = `
  INSERT INTO customers (name, email, phone, company, city, status, created_at, updated_at)
  SELECT f || ' ' || s, lower(translate(f || '.' || s, 'ğüşıöçĞÜŞİÖÇ', 'gusiocGUSIOC')) || i || '@example.com',
         '+90 5' || lpad((i::bigint * 7919 % 1000000000)::text, 9, '0'),
         s || ' ' || (ARRAY['Lojistik','Tekstil','Yazılım','Enerji','Gıda','İnşaat'])[1 + i % 6] || ' ' || (i % 50),
         (ARRAY['Istanbul','Istanbul','Istanbul','Ankara','Ankara','Izmir','Izmir','Bursa','Antalya','Konya','Adana','Trabzon','Eskişehir','Kayseri'])[1 + abs(hashint4(i + 7919)) % 14],
         (ARRAY['lead','active','active','inactive'])[1 + abs(hashint4(i)) % 4],
         t, t
    FROM (SELECT i,
                 (ARRAY['Ayşe','Mehmet','Fatma','Ahmet','Emine','Mustafa','Zeynep','Ali','Elif','Hüseyin','Merve','Murat','Esra','Emre','Derya'])[1 + i % 15] AS f,
                 (ARRAY['Yılmaz','Kaya','Demir','Yılmaz','Şahin','Çelik','Kaya','Yıldız','Yıldırım','Yılmaz','Öztürk','Aydın','Özdemir','Kaya','Arslan','Doğan','Kılıç','Aslan','Çetin','Kara','Koç'])[1 + (i / 15) % 21] AS s,
                 NOW() - ((i::bigint * 7919) % (3 * 365 * 24 * 60)) * INTERVAL '1 minute' AS t
            FROM generate_series($1::int + 1, $2::int) AS i) g`;

/** Rows per INSERT: each statement's triggers (counters, history) take its new rows as one transition table. */
const CHUNK = 1_000_000;

/**
 * Past this many new rows the fill drops the secondary indexes of the tables it writes, loads, and builds
 * each index once: with every index live a row costs more as the indexes grow (1,000,000 rows in 253 s,
 * the next 2,000,000 in 400 s, and a 10,000,000 fill had ~3.1 M rows in after 15 minutes, slowing), so a
 * bulk load of millions is done the way an operator would do one.
 */
export const BULK_ROWS = 2_000_000;

/** How a fill went: for a bulk load, the time to build each index it dropped. */
export interface FillReport {
  bulk: boolean;
  /** Seconds to load the rows (with a bulk load: with the primary keys and triggers only). */
  loadSeconds: number;
  indexes: { name: string; seconds: number }[];
}

/**
 * Fills the customers table with SQL (not through the API) from `from` rows to `to` rows, then VACUUM
 * ANALYZE and a CHECKPOINT: the reads are measured on tables at rest, not while the server is still
 * writing out the fill (the first read measured after a million-row fill varied from 0.43× to 0.96×).
 * Every table, not only customers: the fill also writes a history entry per row, and on a server without
 * autovacuum (this machine kind's PostgreSQL runs with it off) the history read at a million rows went
 * to 0.48× its 10,000 figure on a table never analyzed nor vacuumed (no visibility map for its index-only scans).
 * Every trigger runs as on any write (the stored search text, the counters, the history).
 */
export async function fillCustomers(databaseUrl: string, from: number, to: number): Promise<FillReport> {
  const bulk = to - from >= BULK_ROWS;
  const report: FillReport = { bulk, loadSeconds: 0, indexes: [] };
  await withAdminClient(databaseUrl, async (client) => {
    // The secondary indexes of the tables the fill writes (not those behind a constraint: the primary keys).
    const dropped = bulk
      ? (
          await client.query<{ name: string; def: string }>(
            `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index
              WHERE indrelid IN (to_regclass('customers'), to_regclass('history'))
                AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)`,
          )
        ).rows
      : [];
    for (const index of dropped) await client.query(`DROP INDEX ${index.name}`);
    try {
      const loading = Date.now();
      for (let at = from; at < to; at += CHUNK) await client.query(FILL, [at, Math.min(to, at + CHUNK)]);
      report.loadSeconds = (Date.now() - loading) / 1000;
      // A GIN index over millions of rows builds in a fraction of the time with memory to sort in.
      if (bulk) await client.query("SET maintenance_work_mem = '1GB'");
      for (const index of dropped) {
        const building = Date.now();
        await client.query(index.def);
        report.indexes.push({ name: index.name, seconds: (Date.now() - building) / 1000 });
      }
    } finally {
      // A load or a build that failed leaves no index missing (each one still absent is built again).
      for (const index of dropped) {
        const [present] = (await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [index.name]).catch(() => ({ rows: [] }))).rows;
        if (present?.oid == null) await client.query(index.def).catch(() => undefined);
      }
    }
    await client.query('VACUUM ANALYZE');
    // CHECKPOINT needs a superuser or pg_checkpoint; without either the reads start right away.
    await client.query('CHECKPOINT').catch(() => undefined);
  });
  return report;
}
