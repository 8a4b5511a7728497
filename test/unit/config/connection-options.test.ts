import { resolveConnectionTarget } from '../../../src/db/connection-options';

const target = (url: string | undefined, sslMode: 'disable' | 'prefer' | 'require' | 'verify-full' = 'prefer') =>
  resolveConnectionTarget({ url, sslMode, sslCaFile: undefined });

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

  test('an unknown sslmode in the URL is refused', () => {
    expect(() => target('postgres://u@h/db?sslmode=sometimes')).toThrow(/sslmode/);
  });
});
