import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';

let caller: TestUser;
beforeAll(async () => {
  caller = await createUser();
});

describe('GET /api/customers/:id', () => {
  test('answers the customer with ETag "<version>"', async () => {
    const customer = await createCustomer({ name: 'Mehmet Kaya', city: 'Bursa' });
    const res = await api().get(`/api/customers/${customer.id}`).set('Authorization', caller.auth);
    expect(res).toMatchObject({ status: 200, body: { id: customer.id, name: 'Mehmet Kaya', city: 'Bursa', version: 1 } });
    expect(res.headers.etag).toBe('"1"');
    expect(Object.keys(res.body).sort()).toEqual(
      ['city', 'company', 'created_at', 'created_by', 'email', 'id', 'name', 'notes', 'phone', 'status', 'updated_at', 'version'].sort(),
    );
  });

  test('an absent id answers 404', async () => {
    expectApiError(await api().get('/api/customers/999999').set('Authorization', caller.auth), 404, 'NOT_FOUND');
  });

  test.each(['abc', '1.5', '-1', '0', '1e3', '99999999999999999999', '9223372036854775808', '%00', '1;DROP TABLE customers'])(
    'id %s answers 400',
    async (id) => {
      expectApiError(await api().get(`/api/customers/${encodeURIComponent(id)}`).set('Authorization', caller.auth), 400, 'VALIDATION_ERROR');
    },
  );
});

describe('GET /api/customers/:id, conditional', () => {
  test('a matching If-None-Match answers 304 with no body; a stale one the customer', async () => {
    const customer = await createCustomer();
    const fresh = await api().get(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-None-Match', '"1"');
    expect(fresh.status).toBe(304);
    expect(fresh.text ?? '').toBe('');
    const stale = await api().get(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-None-Match', '"0"');
    expect(stale).toMatchObject({ status: 200, body: { id: customer.id, version: 1 } });
  });
});
