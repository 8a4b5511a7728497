import { withTransaction } from '../../db';
import { countCustomers, insertCustomers } from './customers-repository';
import type { CreateCustomerBody } from './customers-schemas';

const FIRST_NAMES = ['Ahmet', 'Mehmet', 'Ayşe', 'Fatma', 'Mustafa', 'Zeynep', 'Emre', 'Elif', 'Burak', 'Selin', 'Can', 'Deniz', 'Hakan', 'Gül', 'Murat', 'Esra'];
const LAST_NAMES = ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Aydın', 'Öztürk', 'Arslan', 'Doğan', 'Kılıç', 'Aslan', 'Koç', 'Kurt'];
const CITIES = ['İstanbul', 'Ankara', 'İzmir', 'Bursa', 'Antalya', 'Konya', 'Adana', 'Gaziantep', 'Kayseri', 'Eskişehir', 'Trabzon', 'Samsun'];
const COMPANIES = ['Anadolu Lojistik', 'Boğaziçi Yazılım', 'Ege Tekstil', 'Karadeniz Gıda', 'Marmara İnşaat', 'Kapadokya Turizm', 'Toros Enerji', 'Fırat Tarım'];
const STATUSES = ['lead', 'active', 'active', 'inactive'] as const;

const ASCII: Record<string, string> = { ı: 'i', İ: 'i', ş: 's', Ş: 's', ğ: 'g', Ğ: 'g', ü: 'u', Ü: 'u', ö: 'o', Ö: 'o', ç: 'c', Ç: 'c' };
const toAscii = (s: string) => s.replace(/[ıİşŞğĞüÜöÖçÇ]/g, (c) => ASCII[c] ?? c).toLowerCase();

/** A small deterministic PRNG (mulberry32): the same demo data on every machine. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` realistic customers (Turkish names and cities), the same for the same seed. */
function demoCustomers(count: number, seed = 42, now = Date.now()): (CreateCustomerBody & { created_at: Date })[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const company = pick(COMPANIES);
    return {
      name: `${first} ${last}`,
      email: `${toAscii(first)}.${toAscii(last)}${i + 1}@example.com`,
      phone: `+90 5${String(Math.floor(next() * 1e9)).padStart(9, '0')}`,
      company,
      city: pick(CITIES),
      status: pick(STATUSES),
      notes: null,
      // Spread over the last 90 days, so "new in the last 30 days" means something.
      created_at: new Date(now - Math.floor(next() * 90 * 86_400_000)),
    };
  });
}

const DEMO_CUSTOMER_COUNT = 150;

/** Loads the demo customers into an empty table; does nothing when customers exist. */
export async function seedDemoCustomers(count = DEMO_CUSTOMER_COUNT): Promise<number> {
  return withTransaction(async (tx) => {
    if ((await countCustomers(tx)) > 0) return 0;
    return insertCustomers(demoCustomers(count), null, tx);
  }, { rerunIfRolledBack: true });
}
