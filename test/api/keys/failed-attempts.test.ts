import { FAILED_PER_MINUTE } from '../../../src/modules/keys/keys-auth';
import * as keysRepository from '../../../src/modules/keys/keys-repository';
import { api, expectApiError } from '../../helpers/api';
import { madeUpKey } from '../../helpers/api-keys';
import { createUser } from '../../helpers/factories';

// A file of its own: past the limit, this process refuses every key from 127.0.0.1 for the rest of the minute.
describe('refused key attempts from one address', () => {
  afterEach(() => jest.restoreAllMocks());

  test(`${FAILED_PER_MINUTE} a minute are looked up and refused (401); then 429 with Retry-After, before any lookup, valid keys too`, async () => {
    const user = await createUser();
    const made = await api().post('/api/keys').set('Authorization', user.auth).send({ name: 'k', scopes: ['customers:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    const lookup = jest.spyOn(keysRepository, 'findKeyForAuth');
    for (let i = 0; i < FAILED_PER_MINUTE; i += 1) expectApiError(await api().get('/api/customers').set('Authorization', `Bearer ${madeUpKey()}`), 401, 'UNAUTHORIZED');
    expect(lookup).toHaveBeenCalledTimes(FAILED_PER_MINUTE);
    const refused = await api().get('/api/customers').set('Authorization', `Bearer ${madeUpKey()}`);
    expectApiError(refused, 429, 'TOO_MANY_REQUESTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expectApiError(await api().get('/api/customers').set('Authorization', `Bearer ${made.body.key as string}`), 429, 'TOO_MANY_REQUESTS');
    expect(lookup).toHaveBeenCalledTimes(FAILED_PER_MINUTE);
    // A person's token from the same address goes on.
    expect((await api().get('/api/customers').set('Authorization', user.auth)).status).toBe(200);
  });
});
