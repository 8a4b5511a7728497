import { routeScopes } from '../../../src/http/scopes';

// The scope a key needs, read back from an OpenAPI document, matched as Express matches a request.
const document = {
  paths: {
    '/api/customers': { get: { security: [{ bearerAuth: ['customers:read'] }] }, post: { security: [{ bearerAuth: ['customers:write'] }] } },
    '/api/customers/export': { get: { security: [{ bearerAuth: ['customers:export'] }] } },
    '/api/customers/{id}': { get: { security: [{ bearerAuth: ['customers:read'] }] }, delete: { security: [{ bearerAuth: ['customers:write'] }] } },
    '/api/customers/{id}/history': { get: { security: [{ bearerAuth: ['history:read'] }] } },
    '/api/keys': { get: { security: [{ bearerAuth: [] }] } },
    '/metrics': { get: { security: [{}, { metricsToken: [] as string[] }, { bearerAuth: ['metrics:read'] }] as Record<string, string[]>[] } },
  },
};
const scopeOf = routeScopes(document);

describe('routeScopes', () => {
  test.each([
    ['GET', '/api/customers', 'customers:read'],
    ['POST', '/api/customers', 'customers:write'],
    ['GET', '/api/customers/', 'customers:read'],
    ['GET', '/API/Customers', 'customers:read'],
    ['HEAD', '/api/customers', 'customers:read'],
    ['GET', '/api/customers/export', 'customers:export'],
    ['GET', '/api/customers/42', 'customers:read'],
    ['GET', '/api/customers/%34%32', 'customers:read'],
    ['DELETE', '/api/customers/42', 'customers:write'],
    ['GET', '/api/customers/42/history', 'history:read'],
    ['GET', '/metrics', 'metrics:read'],
  ])('%s %s needs %s', (method, path, scope) => {
    expect(scopeOf(method, path)).toBe(scope);
  });

  test.each([
    ['GET', '/api/keys', 'declared with no scope'],
    ['PATCH', '/api/customers/42', 'a method the document does not list'],
    ['GET', '/api/customers/42/history/extra', 'a longer path'],
    ['GET', '/api/customers//history', 'an empty segment'],
    ['GET', '/api/unknown', 'not in the document'],
    ['DELETE', '/api/customers', 'a method of another path'],
  ])('%s %s: no key may call it (%s)', (method, path) => {
    expect(scopeOf(method, path)).toBeUndefined();
  });
});
