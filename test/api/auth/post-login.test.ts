import jwt from 'jsonwebtoken';
import { api, expectApiError } from '../../helpers/api';
import { createUser, unique } from '../../helpers/factories';

describe('POST /api/auth/login', () => {
  test('answers a Bearer token and the user, comparing the email case-insensitively', async () => {
    const { user, password } = await createUser({ email: `Mixed.Case-${unique()}@Example.com` });
    const res = await api().post('/api/auth/login').send({ email: user.email.toUpperCase(), password });
    expect(res).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', expires_in: 900, user: { id: user.id, email: user.email, name: user.name, role: 'user' } },
    });
    expect(res.body.user.password_hash).toBeUndefined();
    const claims = jwt.decode(res.body.token, { complete: true });
    expect(claims).toMatchObject({
      header: { alg: 'HS256' },
      payload: { sub: String(user.id), role: 'user', iss: 'customer-api', aud: 'customer-api-clients' },
    });
  });

  test('a wrong password and an unknown email get the same 401 INVALID_CREDENTIALS', async () => {
    const { user } = await createUser();
    const wrong = await api().post('/api/auth/login').send({ email: user.email, password: 'not-the-password' });
    const unknown = await api().post('/api/auth/login').send({ email: `nobody-${unique()}@example.com`, password: 'whatever-password' });
    expectApiError(wrong, 401, 'INVALID_CREDENTIALS');
    expectApiError(unknown, 401, 'INVALID_CREDENTIALS');
    expect(wrong.body.error).toEqual(unknown.body.error);
  });

  test('a deactivated user cannot log in, even with the right password', async () => {
    const { user, password } = await createUser({ is_active: false });
    expectApiError(await api().post('/api/auth/login').send({ email: user.email, password }), 401, 'INVALID_CREDENTIALS');
  });

  test('after 5 failures for an email, further attempts get 429 with Retry-After, the right password too', async () => {
    const { user, password } = await createUser();
    const agent = api();
    for (let i = 0; i < 5; i += 1) {
      expectApiError(await agent.post('/api/auth/login').send({ email: user.email, password: `wrong-${i}-password` }), 401, 'INVALID_CREDENTIALS');
    }
    const blocked = await agent.post('/api/auth/login').send({ email: user.email.toUpperCase(), password });
    expectApiError(blocked, 429, 'TOO_MANY_REQUESTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another email from the same client is not locked.
    const other = await createUser();
    expect((await agent.post('/api/auth/login').send({ email: other.user.email, password: other.password })).status).toBe(200);
  });

  test.each([
    ['no body', undefined],
    ['a missing password', { email: 'a@example.com' }],
    ['a number for the email', { email: 42, password: 'password' }],
    ['an unknown field', { email: 'a@example.com', password: 'password', admin: true }],
    ['an array', [{ email: 'a@example.com', password: 'password' }]],
  ])('with %s answers 400 VALIDATION_ERROR', async (_case, body) => {
    const res = await api().post('/api/auth/login').send(body);
    expectApiError(res, 400, 'VALIDATION_ERROR');
  });

  test('invalid JSON answers 400 INVALID_JSON', async () => {
    const res = await api().post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": ');
    expectApiError(res, 400, 'INVALID_JSON');
  });

  test('a body that is not JSON answers 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await api().post('/api/auth/login').set('Content-Type', 'text/plain').send('email=a&password=b');
    expectApiError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a body over the limit answers 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await api().post('/api/auth/login').send({ email: 'a@example.com', password: 'x'.repeat(200_000) });
    expectApiError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('messages follow Accept-Language, codes do not', async () => {
    const res = await api().post('/api/auth/login').set('Accept-Language', 'tr').send({ email: `x-${unique()}@example.com`, password: 'whatever-pw' });
    expect(res.body.error).toEqual({ code: 'INVALID_CREDENTIALS', message: 'E-posta veya şifre hatalı' });
  });
});
