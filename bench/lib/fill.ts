import { adminQuery } from './database';

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

/**
 * Fills the customers table with SQL (not through the API) from `from` rows to `to` rows, then VACUUM
 * ANALYZE and a CHECKPOINT: the reads are measured on tables at rest, not while the server is still
 * writing out the fill (the first read measured after a million-row fill varied from 0.43× to 0.96×).
 * Every table, not only customers: the fill also writes a history entry per row, and on a server without
 * autovacuum (this machine kind's PostgreSQL runs with it off) the history read at a million rows went
 * to 0.48× its 10,000 figure on a table never analyzed nor vacuumed (no visibility map for its index-only scans).
 */
export async function fillCustomers(databaseUrl: string, from: number, to: number): Promise<void> {
  await adminQuery(databaseUrl, FILL, [from, to]);
  await adminQuery(databaseUrl, 'VACUUM ANALYZE');
  // CHECKPOINT needs a superuser or pg_checkpoint; without either the reads start right away.
  await adminQuery(databaseUrl, 'CHECKPOINT').catch(() => undefined);
}
