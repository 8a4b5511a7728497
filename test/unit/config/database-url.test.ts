import { describeDatabaseUrl, parseDatabaseUrl, splitReplicaUrls } from '../../../src/config/database-url';
import { resolveConnectionTarget } from '../../../src/db/connection-options';

const target = (url: string, serves: 'writes' | 'reads' = 'writes', targetSessionAttrs?: 'any' | 'standby') =>
  resolveConnectionTarget({ url, sslMode: 'prefer', sslCaFile: undefined, pgOptions: undefined, targetSessionAttrs }, serves);

describe('parseDatabaseUrl (libpq multi-host URLs)', () => {
  test('reads every host in order, with 5432 where no port is given, and keeps the rest of the URL on the first host', () => {
    expect(parseDatabaseUrl('postgres://app:s3cret@h1:5521,h2,[::1]:5523/app?target_session_attrs=read-write&application_name=x')).toEqual({
      hosts: [
        { host: 'h1', port: 5521 },
        { host: 'h2', port: 5432 },
        { host: '::1', port: 5523 },
      ],
      url: 'postgres://app:s3cret@h1:5521/app?target_session_attrs=read-write&application_name=x',
      targetSessionAttrs: 'read-write',
      loadBalanceHosts: false,
    });
  });

  test('one host is the URL as written; load_balance_hosts=random is read', () => {
    expect(parseDatabaseUrl('postgresql://u@db.internal/db')).toMatchObject({ hosts: [{ host: 'db.internal', port: 5432 }], url: 'postgresql://u@db.internal/db' });
    expect(parseDatabaseUrl('postgres://u@r1,r2/db?load_balance_hosts=random').loadBalanceHosts).toBe(true);
  });

  test.each([
    ['mysql://u@h/db', /postgres:\/\//],
    ['postgres://u:pw@h1,,h2/db', /empty or malformed host/],
    ['postgres://u:pw@h1:99999,h2/db', /port outside/],
    ['postgres://u:pw@h1,h2/db?target_session_attrs=sometimes', /target_session_attrs "sometimes"/],
    ['postgres://u:pw@h1,h2/db?load_balance_hosts=yes', /load_balance_hosts "yes"/],
  ])('%s is refused with a reason that never repeats the password', (url, reason) => {
    expect(() => parseDatabaseUrl(url)).toThrow(reason);
    expect(() => parseDatabaseUrl(url)).not.toThrow(/pw/);
  });

  test('describeDatabaseUrl names hosts and database, never the user or password', () => {
    expect(describeDatabaseUrl('postgres://app:s3cret@h1:5521,h2:5522/app')).toBe('h1:5521,h2:5522/app');
  });

  test('DATABASE_REPLICA_URLS splits between URLs, not between the hosts of one URL', () => {
    expect(splitReplicaUrls('postgres://r1:1,r2:2/db?target_session_attrs=standby,postgres://r3/db postgres://r4/db')).toEqual([
      'postgres://r1:1,r2:2/db?target_session_attrs=standby',
      'postgres://r3/db',
      'postgres://r4/db',
    ]);
  });
});

describe('target_session_attrs of a pool', () => {
  test('a pool that serves writes, given several hosts and no target_session_attrs, takes read-write', () => {
    expect(target('postgres://u@h1,h2/db')).toMatchObject({ targetSessionAttrs: 'read-write', targetSessionAttrsImplied: true });
    expect(target('postgres://u@h1/db')).toMatchObject({ targetSessionAttrs: 'any', targetSessionAttrsImplied: false });
    // Replicas keep libpq's default.
    expect(target('postgres://u@h1,h2/db', 'reads')).toMatchObject({ targetSessionAttrs: 'any', targetSessionAttrsImplied: false });
  });

  test("the URL's target_session_attrs wins over PGTARGETSESSIONATTRS, which wins over the rule; neither reaches node-postgres", () => {
    expect(target('postgres://u@h1,h2/db?target_session_attrs=primary', 'writes', 'any').targetSessionAttrs).toBe('primary');
    expect(target('postgres://u@h1,h2/db', 'writes', 'standby').targetSessionAttrs).toBe('standby');
    const t = target('postgres://u@h1:1,h2:2/db?target_session_attrs=primary&load_balance_hosts=random&application_name=x');
    expect(t.connectionString).toBe('postgres://u@h1:1/db?application_name=x');
    expect(t.loadBalanceHosts).toBe(true);
  });
});
