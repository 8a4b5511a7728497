import { loadConfig, setConfig } from '../../../src/config/config';
import { api, expectApiError } from '../../helpers/api';
import { createUser, type TestUser } from '../../helpers/factories';

// JWT_SECRET signs and verifies; JWT_PREVIOUS_SECRETS only verify, each token by the key its kid names.
const OLD = process.env.JWT_SECRET!;
const NEW = 'a-new-secret-that-is-long-enough-0123456789abcdef';
const useSecrets = (secret: string, previous: string) => setConfig(loadConfig({ ...process.env, JWT_SECRET: secret, JWT_PREVIOUS_SECRETS: previous }));
const me = (auth: string) => api().get('/api/auth/me').set('Authorization', auth);

let user: TestUser;
beforeAll(async () => {
  user = await createUser();
});
afterEach(() => useSecrets(OLD, ''));

describe('rotating JWT_SECRET', () => {
  test('with the old secret in JWT_PREVIOUS_SECRETS, its tokens still work and new ones are signed with the new secret; removing it ends them', async () => {
    const login = await api().post('/api/auth/login').send({ email: user.user.email, password: user.password });
    const oldToken = `Bearer ${login.body.token as string}`;
    useSecrets(NEW, OLD);
    expect((await me(oldToken)).status).toBe(200);
    // The session goes on: a refresh signs with the new secret.
    const next = await api().post('/api/auth/refresh').send({ refresh_token: login.body.refresh_token });
    expect(next.status).toBe(200);
    const newToken = `Bearer ${next.body.token as string}`;
    expect(JSON.parse(Buffer.from(newToken.split(' ')[1]!.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'HS256', kid: expect.any(String) });
    expect((await me(newToken)).status).toBe(200);

    useSecrets(NEW, '');
    expectApiError(await me(oldToken), 401, 'UNAUTHORIZED');
    expect((await me(newToken)).status).toBe(200);
  });

  test('a previous secret shorter than 32 characters stops the start, without printing it', () => {
    let message = '';
    try {
      loadConfig({ ...process.env, JWT_PREVIOUS_SECRETS: `${OLD},short-secret` });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/JWT_PREVIOUS_SECRETS/);
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain(OLD);
  });
});
