// A small typed client for customer-api, checked against types generated from its OpenAPI document:
//   npx openapi-typescript http://localhost:3000/api/openapi.json -o api.d.ts
// (test/api/docs/typed-client.test.ts generates api.d.ts next to this file, type-checks it, and runs it.)
import type { components, operations } from './api';

export type Customer = components['schemas']['Customer'];
export type CustomerPage = operations['listCustomers']['responses'][200]['content']['application/json'];
export type ListCustomersQuery = NonNullable<operations['listCustomers']['parameters']['query']>;
export type NewCustomer = operations['createCustomer']['requestBody']['content']['application/json'];
export type ApiError = components['schemas']['Error'];
export type Login = components['schemas']['Login'];
type CreateHeaders = NonNullable<operations['createCustomer']['parameters']['header']>;
export type ExportQuery = NonNullable<operations['exportCustomers']['parameters']['query']>;

const MAX_TRIES = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
    /** Seconds, from the Retry-After header (503, 409, 429). */
    readonly retryAfter: string | null = null,
  ) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
  }
}

/**
 * A POST with a JSON body (none when `body` is undefined). `credentials: 'include'` sends and accepts the
 * refresh cookie across origins (a browser frontend on another origin than the API).
 */
async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}, credentials: RequestCredentials = 'same-origin'): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    credentials,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer: unknown = res.status === 204 ? undefined : await res.json();
  if (!res.ok) throw new ApiCallError(res.status, answer as ApiError, res.headers.get('retry-after'));
  return answer as T;
}

/** Renew the access token this long before it expires (clocks drift; a request takes time); halfway for a short-lived one. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * A session kept going: `accessToken()` refreshes before the access token expires (one refresh at a
 * time, even when many calls ask at once), `logout()` ends the session. `renew` asks for the next pair.
 */
function keepSession(baseUrl: string, first: Login, renew: (current: Login) => Promise<Login>, credentials: RequestCredentials) {
  let current = first;
  let expiresAt = Date.now() + first.expires_in * 1000;
  let refreshing: Promise<void> | undefined;
  async function refresh(): Promise<void> {
    refreshing ??= renew(current)
      .then((next) => {
        current = next;
        expiresAt = Date.now() + next.expires_in * 1000;
      })
      .finally(() => (refreshing = undefined));
    return refreshing;
  }
  async function accessToken(): Promise<string> {
    if (Date.now() >= expiresAt - Math.min(REFRESH_MARGIN_MS, (current.expires_in * 1000) / 2)) await refresh();
    return current.token;
  }
  return {
    user: first.user,
    accessToken,
    refresh,
    client: createClient(baseUrl, accessToken),
    /** Ends the session: its refresh token (and cookie), and its access tokens with it. */
    logout: async (): Promise<void> => postJson<void>(`${baseUrl}/api/auth/logout`, undefined, { authorization: `Bearer ${await accessToken()}` }, credentials),
  };
}

/**
 * Logs in and keeps the session going, the refresh token in the answers' bodies: for a program, a
 * server or a mobile app. A browser frontend uses `loginInBrowser` instead.
 */
export async function login(baseUrl: string, email: string, password: string) {
  const first = await postJson<Login>(`${baseUrl}/api/auth/login`, { email, password });
  const renew = (current: Login) => postJson<Login>(`${baseUrl}/api/auth/refresh`, { refresh_token: current.refresh_token });
  return keepSession(baseUrl, first, renew, 'same-origin');
}

/**
 * The same for a browser frontend, on the API's origin or its own (docs/api.md, "A browser frontend"):
 * the refresh token lives only in an HttpOnly cookie, which the browser keeps and JavaScript never sees;
 * login, refresh and logout go with `credentials: 'include'` so that the browser stores and sends it
 * across origins. Keep the access token in memory only (not in localStorage).
 */
export async function loginInBrowser(baseUrl: string, email: string, password: string) {
  const first = await postJson<Login>(`${baseUrl}/api/auth/login`, { email, password, refresh_token_in: 'cookie' }, {}, 'include');
  return keepSession(baseUrl, first, () => refreshWithCookie(baseUrl), 'include');
}

const refreshWithCookie = (baseUrl: string) => postJson<Login>(`${baseUrl}/api/auth/refresh`, undefined, {}, 'include');

/**
 * After a page load the access token (kept in memory) is gone but the cookie is not: the session goes
 * on with a refresh. Null when there is no live session (no cookie, or the session ended): show the login.
 */
export async function resumeSessionInBrowser(baseUrl: string) {
  try {
    return keepSession(baseUrl, await refreshWithCookie(baseUrl), () => refreshWithCookie(baseUrl), 'include');
  } catch (err) {
    if (err instanceof ApiCallError && err.status === 401) return null;
    throw err;
  }
}

/**
 * A client for a fixed access token, a session's (`login(…).accessToken`), or an API key
 * (`{ apiKey: process.env.CUSTOMER_API_KEY }`: a script or another service; no login, no refresh).
 */
export function createClient(baseUrl: string, token: string | (() => Promise<string>) | { apiKey: string }) {
  const bearerOf = async (): Promise<string> => (typeof token === 'string' ? token : typeof token === 'function' ? token() : token.apiKey);
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const bearer = await bearerOf();
    const res = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    });
    const body: unknown = await res.json();
    if (!res.ok) throw new ApiCallError(res.status, body as ApiError, res.headers.get('retry-after'));
    return body as T;
  }

  return {
    /** One page; pass `next_cursor` back as `cursor` for the next. */
    listCustomers(query: ListCustomersQuery = {}): Promise<CustomerPage> {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
      return call<CustomerPage>(`/api/customers?${params.toString()}`);
    },
    /**
     * Creates a customer, safely retried: one Idempotency-Key for every try, so a try whose answer was
     * lost (a 503 during a database failover, a cut connection) is answered with the customer the
     * first try created, never a second one. Waits Retry-After between tries.
     */
    async createCustomer(customer: NewCustomer): Promise<Customer> {
      const headers: CreateHeaders = { 'idempotency-key': crypto.randomUUID() };
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await call<Customer>('/api/customers', { method: 'POST', body: JSON.stringify(customer), headers });
        } catch (err) {
          // 503: the database is away for a moment; 409 IDEMPOTENCY_KEY_IN_USE: the first try still runs; else the connection was cut.
          const retry = err instanceof ApiCallError ? err.status === 503 || err.body.error.code === 'IDEMPOTENCY_KEY_IN_USE' : err instanceof TypeError;
          if (!retry || attempt >= MAX_TRIES) throw err;
          await sleep(err instanceof ApiCallError ? Number(err.retryAfter ?? 1) * 1000 : 500);
        }
      }
    },
    /**
     * Downloads an export into `sink`, streamed: a million customers never sit in memory. In Node:
     * `Writable.toWeb(createWriteStream('customers.csv'))`; in a browser, a file picker's stream. A
     * transfer cut off mid-way (the server's database failed) rejects: the file is then incomplete,
     * never short but seemingly whole. 429 (exports already running): try again after Retry-After.
     * Resolves with the file name the API gives it (Content-Disposition), such as customers-2026-12-05.csv.
     */
    async downloadExport(query: ExportQuery, sink: WritableStream<Uint8Array>): Promise<string> {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
      const bearer = await bearerOf();
      const res = await fetch(`${baseUrl}/api/customers/export?${params.toString()}`, { headers: { authorization: `Bearer ${bearer}` } });
      if (!res.ok || !res.body) throw new ApiCallError(res.status, (await res.json()) as ApiError, res.headers.get('retry-after'));
      const fileName = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `customers.${query.format ?? 'csv'}`;
      await res.body.pipeTo(sink);
      return fileName;
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
