import { loadConfig, setConfig } from '../../../src/config/config';
import { signAccessToken, verifyAccessToken } from '../../../src/http/access-tokens';

const BASE = { ENV_FILE: '/dev/null', DATABASE_URL: 'postgres://u@localhost:5432/db', LOG_LEVEL: 'silent' };
const SECRET_A = 'unit-secret-a-that-is-long-enough-0123456789';
const SECRET_B = 'unit-secret-b-that-is-long-enough-0123456789';

beforeEach(() => setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_A })));
afterEach(() => jest.useRealTimers());

// Verified tokens are remembered (auth-tokens.ts); these prove the memory never outlives a check.
describe('verifyAccessToken', () => {
  test('gives the claims of a valid token, the second time too', () => {
    const token = signAccessToken({ id: 7, role: 'user' });
    expect(verifyAccessToken(token)).toEqual({ userId: 7, role: 'user' });
    expect(verifyAccessToken(token)).toEqual({ userId: 7, role: 'user' });
  });

  test('a token that verified is refused as expired once its exp is reached', () => {
    jest.useFakeTimers({ now: new Date('2026-03-01T12:00:00Z') });
    const token = signAccessToken({ id: 8, role: 'admin' });
    expect(verifyAccessToken(token)).toEqual({ userId: 8, role: 'admin' });
    jest.setSystemTime(new Date('2026-03-01T12:59:59Z'));
    expect(verifyAccessToken(token)).toEqual({ userId: 8, role: 'admin' });
    jest.setSystemTime(new Date('2026-03-01T13:00:00Z'));
    expect(verifyAccessToken(token)).toBe('expired');
    expect(verifyAccessToken(token)).toBe('expired');
  });

  test('a token that verified under one secret is refused once the secret changes', () => {
    const token = signAccessToken({ id: 9, role: 'user' });
    expect(verifyAccessToken(token)).toEqual({ userId: 9, role: 'user' });
    setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_B }));
    expect(verifyAccessToken(token)).toBe('invalid');
  });

  test('a copy of a verified token with another signature is refused', () => {
    const token = signAccessToken({ id: 10, role: 'user' });
    expect(verifyAccessToken(token)).toEqual({ userId: 10, role: 'user' });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect(verifyAccessToken(tampered)).toBe('invalid');
  });
});
