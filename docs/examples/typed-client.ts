// A small typed client for customer-api, checked against types generated from its OpenAPI document:
//   npx openapi-typescript http://localhost:3000/api/openapi.json -o api.d.ts
// (test/api/docs/typed-client.test.ts generates api.d.ts next to this file, type-checks it, and runs it.)
import type { components, operations } from './api';

export type Customer = components['schemas']['Customer'];
export type CustomerPage = operations['listCustomers']['responses'][200]['content']['application/json'];
export type ListCustomersQuery = NonNullable<operations['listCustomers']['parameters']['query']>;
export type NewCustomer = operations['createCustomer']['requestBody']['content']['application/json'];
export type ApiError = components['schemas']['Error'];

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
  }
}

export function createClient(baseUrl: string, token: string) {
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    const body: unknown = await res.json();
    if (!res.ok) throw new ApiCallError(res.status, body as ApiError);
    return body as T;
  }

  return {
    /** One page; pass `next_cursor` back as `cursor` for the next. */
    listCustomers(query: ListCustomersQuery = {}): Promise<CustomerPage> {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
      return call<CustomerPage>(`/api/customers?${params.toString()}`);
    },
    createCustomer(customer: NewCustomer): Promise<Customer> {
      return call<Customer>('/api/customers', { method: 'POST', body: JSON.stringify(customer) });
    },
    /** Every customer of a filter, page after page by cursor. */
    async *allCustomers(query: Omit<ListCustomersQuery, 'cursor' | 'page'> = {}): AsyncGenerator<Customer> {
      let cursor: string | undefined;
      do {
        const page = await this.listCustomers({ ...query, ...(cursor ? { cursor } : {}), count: 'none' });
        yield* page.data;
        cursor = page.pagination.next_cursor ?? undefined;
      } while (cursor);
    },
  };
}

/** "Ayşe Kaya (Izmir), active, version 3" */
export function describeCustomer(customer: Customer): string {
  return `${customer.name} (${customer.city ?? 'no city'}), ${customer.status}, version ${customer.version}`;
}
