import { resolveConnectionTarget } from '../../../src/db/connection-options';

const target = (url: string | undefined, sslMode: 'disable' | 'prefer' | 'require' | 'verify-full' = 'prefer', pgOptions?: string) =>
  resolveConnectionTarget({ url, sslMode, sslCaFile: undefined, pgOptions, targetSessionAttrs: undefined });

describe('resolveConnectionTarget', () => {
  test('DB_SSLMODE applies when the URL has no sslmode', () => {
    expect(target('postgres://u@h/db', 'disable')).toMatchObject({ sslMode: 'disable', ssl: false, fallBackToPlain: false });
    expect(target('postgres://u@h/db', 'prefer')).toMatchObject({ sslMode: 'prefer', ssl: { rejectUnauthorized: false }, fallBackToPlain: true });
    expect(target('postgres://u@h/db', 'require')).toMatchObject({ ssl: { rejectUnauthorized: false }, fallBackToPlain: false });
    expect(target('postgres://u@h/db', 'verify-full')).toMatchObject({ ssl: { rejectUnauthorized: true }, fallBackToPlain: false });
  });

  test("the URL's sslmode wins, keeps its libpq meaning, and is removed from the URL", () => {
    const t = target('postgres://u:p@h:5432/db?sslmode=require&application_name=x', 'disable');
    expect(t.sslMode).toBe('require');
    expect(t.ssl).toEqual({ rejectUnauthorized: false });
    expect(t.connectionString).toBe('postgres://u:p@h:5432/db?application_name=x');
  });

  test("start-up options: the URL's win over PGOPTIONS, and leave the URL (the pool adds its own after them)", () => {
    expect(target('postgres://u@h/db?options=-c%20search_path%3Dapp&application_name=x', 'prefer', '-c work_mem=8MB')).toMatchObject({
      options: '-c search_path=app',
      connectionString: 'postgres://u@h/db?application_name=x',
    });
    expect(target('postgres://u@h/db', 'prefer', '-c work_mem=8MB').options).toBe('-c work_mem=8MB');
    expect(target('postgres://u@h/db').options).toBeUndefined();
  });

  test('an unknown sslmode in the URL is refused', () => {
    expect(() => target('postgres://u@h/db?sslmode=sometimes')).toThrow(/sslmode/);
  });
});
