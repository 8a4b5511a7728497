import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';

let caller: TestUser;
beforeAll(async () => {
  caller = await createUser();
});

describe('PATCH /api/customers/:id', () => {
  test('changes only the given fields and bumps version and updated_at', async () => {
    const customer = await createCustomer({ name: 'Before', city: 'Ankara' });
    const res = await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).send({ status: 'active' });
    expect(res).toMatchObject({ status: 200, body: { name: 'Before', city: 'Ankara', status: 'active', version: 2 } });
    expect(res.headers.etag).toBe('"2"');
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(customer.updated_at.getTime());
  });

  test('a matching If-Match writes; a stale one gets 412 and changes nothing', async () => {
    const customer = await createCustomer({ name: 'Original' });
    const ok = await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', '"1"').send({ name: 'First' });
    expect(ok).toMatchObject({ status: 200, body: { name: 'First', version: 2 } });
    const stale = await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', '"1"').send({ name: 'Lost update' });
    expectApiError(stale, 412, 'PRECONDITION_FAILED');
    const read = await api().get(`/api/customers/${customer.id}`).set('Authorization', caller.auth);
    expect(read.body).toMatchObject({ name: 'First', version: 2 });
  });

  test('If-Match: * and weak tags are understood', async () => {
    const customer = await createCustomer();
    expect((await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', '*').send({ notes: 'a' })).status).toBe(200);
    expect((await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', 'W/"2"').send({ notes: 'b' })).status).toBe(200);
  });

  test('a malformed If-Match answers 400', async () => {
    const customer = await createCustomer();
    expectApiError(await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', 'version-1').send({ notes: 'x' }), 400, 'VALIDATION_ERROR');
  });

  test('an absent customer answers 404, with or without If-Match', async () => {
    expectApiError(await api().patch('/api/customers/888888').set('Authorization', caller.auth).send({ notes: 'x' }), 404, 'NOT_FOUND');
    expectApiError(await api().patch('/api/customers/888888').set('Authorization', caller.auth).set('If-Match', '"1"').send({ notes: 'x' }), 404, 'NOT_FOUND');
  });

  test.each([
    ['an empty body', {}],
    ['a null name', { name: null }],
    ['a NUL in the city', { city: 'An\u0000kara' }],
    ['an unknown field', { version: 99 }],
  ])('with %s answers 400 and changes nothing', async (_case, body) => {
    const customer = await createCustomer({ name: 'Stable' });
    expectApiError(await api().patch(`/api/customers/${customer.id}`).set('Authorization', caller.auth).send(body), 400, 'VALIDATION_ERROR');
    const read = await api().get(`/api/customers/${customer.id}`).set('Authorization', caller.auth);
    expect(read.body).toMatchObject({ name: 'Stable', version: 1 });
  });
});

describe('PUT /api/customers/:id', () => {
  test('replaces the whole customer: fields left out become null', async () => {
    const customer = await createCustomer({ name: 'Full', city: 'Bursa', company: 'Acme', status: 'active' });
    const res = await api().put(`/api/customers/${customer.id}`).set('Authorization', caller.auth).send({ name: 'Replaced' });
    expect(res).toMatchObject({ status: 200, body: { name: 'Replaced', city: null, company: null, email: null, status: 'lead', version: 2 } });
  });

  test('a stale If-Match gets 412', async () => {
    const customer = await createCustomer();
    expectApiError(await api().put(`/api/customers/${customer.id}`).set('Authorization', caller.auth).set('If-Match', '"7"').send({ name: 'x' }), 412, 'PRECONDITION_FAILED');
  });

  test('a missing name answers 400', async () => {
    const customer = await createCustomer();
    expectApiError(await api().put(`/api/customers/${customer.id}`).set('Authorization', caller.auth).send({ city: 'Ankara' }), 400, 'VALIDATION_ERROR');
  });
});
