import type { NextFunction, Request, Response } from 'express';
import { loadConfig, setConfig } from '../../../src/config/config';
import { signAccessToken } from '../../../src/http/access-tokens';
import { requireAuth, type KeyAuth } from '../../../src/http/authenticate';
import { AppError } from '../../../src/http/errors';
import type { CurrentUser } from '../../../src/http/request-context';

const BASE = { ENV_FILE: '/dev/null', DATABASE_URL: 'postgres://u@localhost:5432/db', LOG_LEVEL: 'silent', JWT_SECRET: 'unit-secret-a-that-is-long-enough-0123456789' };
const SID = '3f1c2a9e-7b4d-4c1e-9a55-2c1f3e8b6d40';
const USER = { id: 7, role: 'user' } as unknown as CurrentUser;

beforeEach(() => setConfig(loadConfig(BASE)));

const requestWith = (authorization: string) => ({ headers: { authorization } }) as unknown as Request;
const res = {} as Response;
// No key is presented in these tests: a key resolver that would fail them if asked.
const NO_KEYS: KeyAuth = { resolveKey: () => { throw new Error('no key expected'); }, scopeOf: () => undefined };

// The resolvers here are plain functions standing for the session cache (sync) and its lookup (a promise):
// what is under test is how the middleware treats each, not the database.
describe('requireAuth', () => {
  test('a cached user is admitted in the same tick: next() runs before the middleware returns, and nothing is returned', () => {
    const req = requestWith(`Bearer ${signAccessToken({ id: 7, role: 'user' }, SID)}`);
    const next = jest.fn() as NextFunction;
    const returned: unknown = requireAuth(() => USER, NO_KEYS)(req, res, next);
    expect(next).toHaveBeenCalledWith();
    expect(returned).toBeUndefined();
    expect(req.user).toBe(USER);
    expect(req.claims).toEqual({ userId: 7, role: 'user', sessionId: SID });
  });

  test('a user looked up (a promise) is admitted once it arrives', async () => {
    const req = requestWith(`Bearer ${signAccessToken({ id: 7, role: 'user' }, SID)}`);
    const next = jest.fn() as NextFunction;
    const returned: unknown = requireAuth(() => Promise.resolve(USER), NO_KEYS)(req, res, next);
    expect(next).not.toHaveBeenCalled();
    await returned;
    expect(next).toHaveBeenCalledWith();
    expect(req.user).toBe(USER);
  });

  test.each([
    ['cached', () => null],
    ['looked up', () => Promise.resolve(null)],
  ])('a refused session (%s) is 401 TOKEN_INVALID, and next() is not called', async (_how, resolve) => {
    const req = requestWith(`Bearer ${signAccessToken({ id: 7, role: 'user' }, SID)}`);
    const next = jest.fn() as NextFunction;
    const outcome = Promise.resolve().then(() => requireAuth(resolve, NO_KEYS)(req, res, next));
    await expect(outcome).rejects.toMatchObject({ status: 401, messageKey: 'TOKEN_INVALID' });
    await expect(outcome).rejects.toBeInstanceOf(AppError);
    expect(next).not.toHaveBeenCalled();
    expect(req.user).toBeUndefined();
  });

  test('a bad token is refused before the resolver is asked', () => {
    const resolve = jest.fn(() => USER);
    expect(() => requireAuth(resolve, NO_KEYS)(requestWith('Bearer not.a.token'), res, jest.fn())).toThrow(AppError);
    expect(resolve).not.toHaveBeenCalled();
  });
});
