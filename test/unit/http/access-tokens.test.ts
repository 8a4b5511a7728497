import { loadConfig, setConfig } from '../../../src/config/config';
import { signAccessToken, verifyAccessToken } from '../../../src/http/access-tokens';

const BASE = { ENV_FILE: '/dev/null', DATABASE_URL: 'postgres://u@localhost:5432/db', LOG_LEVEL: 'silent' };
const SECRET_A = 'unit-secret-a-that-is-long-enough-0123456789';
const SECRET_B = 'unit-secret-b-that-is-long-enough-0123456789';
const SID = '3f1c2a9e-7b4d-4c1e-9a55-2c1f3e8b6d40';

beforeEach(() => setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_A })));
afterEach(() => jest.useRealTimers());

// Verified tokens are remembered (access-tokens.ts); these prove the memory never outlives a check.
describe('verifyAccessToken', () => {
  test('gives the claims of a valid token, the second time too', () => {
    const token = signAccessToken({ id: 7, role: 'user' }, SID);
    expect(verifyAccessToken(token)).toEqual({ userId: 7, role: 'user', sessionId: SID });
    expect(verifyAccessToken(token)).toEqual({ userId: 7, role: 'user', sessionId: SID });
  });

  test('a token that verified is refused as expired once its exp is reached', () => {
    jest.useFakeTimers({ now: new Date('2026-03-01T12:00:00Z') });
    const token = signAccessToken({ id: 8, role: 'admin' }, SID);
    expect(verifyAccessToken(token)).toEqual({ userId: 8, role: 'admin', sessionId: SID });
    // JWT_EXPIRES_IN: 900 s by default.
    jest.setSystemTime(new Date('2026-03-01T12:14:59Z'));
    expect(verifyAccessToken(token)).toEqual({ userId: 8, role: 'admin', sessionId: SID });
    jest.setSystemTime(new Date('2026-03-01T12:15:00Z'));
    expect(verifyAccessToken(token)).toBe('expired');
    expect(verifyAccessToken(token)).toBe('expired');
  });

  test('a token that verified under one secret is refused once the secret changes', () => {
    const token = signAccessToken({ id: 9, role: 'user' }, SID);
    expect(verifyAccessToken(token)).toEqual({ userId: 9, role: 'user', sessionId: SID });
    setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_B }));
    expect(verifyAccessToken(token)).toBe('invalid');
  });

  test('a token signed with a previous secret verifies while that secret is in JWT_PREVIOUS_SECRETS, and new tokens are signed with the current one', () => {
    const old = signAccessToken({ id: 11, role: 'user' }, SID);
    setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_B, JWT_PREVIOUS_SECRETS: SECRET_A }));
    expect(verifyAccessToken(old)).toEqual({ userId: 11, role: 'user', sessionId: SID });
    const fresh = signAccessToken({ id: 11, role: 'user' }, SID);
    const kid = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(fresh)).not.toBe(kid(old));
    setConfig(loadConfig({ ...BASE, JWT_SECRET: SECRET_B }));
    expect(verifyAccessToken(old)).toBe('invalid');
    expect(verifyAccessToken(fresh)).toEqual({ userId: 11, role: 'user', sessionId: SID });
  });

  test('a copy of a verified token with another signature is refused', () => {
    const token = signAccessToken({ id: 10, role: 'user' }, SID);
    expect(verifyAccessToken(token)).toEqual({ userId: 10, role: 'user', sessionId: SID });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect(verifyAccessToken(tampered)).toBe('invalid');
  });
});
