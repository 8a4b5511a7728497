import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createCustomer, createUser } from '../../helpers/factories';

describe('DELETE /api/customers/:id', () => {
  test('an admin deletes: 204, then GET answers 404', async () => {
    const admin = await createAdmin();
    const customer = await createCustomer();
    expect((await api().delete(`/api/customers/${customer.id}`).set('Authorization', admin.auth)).status).toBe(204);
    expectApiError(await api().get(`/api/customers/${customer.id}`).set('Authorization', admin.auth), 404, 'NOT_FOUND');
  });

  test('an absent customer answers 404', async () => {
    const admin = await createAdmin();
    expectApiError(await api().delete('/api/customers/777777').set('Authorization', admin.auth), 404, 'NOT_FOUND');
  });

  test('a user (not admin) gets 403 and the customer stays', async () => {
    const { auth } = await createUser();
    const customer = await createCustomer();
    expectApiError(await api().delete(`/api/customers/${customer.id}`).set('Authorization', auth), 403, 'FORBIDDEN');
    expect((await api().get(`/api/customers/${customer.id}`).set('Authorization', auth)).status).toBe(200);
  });
});
