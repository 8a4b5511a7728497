/**
 * What an API key may do (docs/api.md §9). A route declares the scope a key needs in its OpenAPI
 * registration, and only there: `security: scoped('customers:read')`. The document carries it (the
 * bearer scheme's list, OpenAPI 3.1), and the auth middleware reads it back from the document
 * (routeScopes): a route registered with BEARER alone, or not in the document, refuses every key.
 */
export const SCOPES = [
  'health:read',
  'metrics:read',
  'customers:read',
  'customers:write',
  'customers:export',
  'customers:import',
  'users:read',
  'history:read',
] as const;
export type Scope = (typeof SCOPES)[number];
export const isScope = (value: unknown): value is Scope => (SCOPES as readonly unknown[]).includes(value);

/** A route a person's token or a key with `scope` may call. */
export const scoped = (scope: Scope) => [{ bearerAuth: [scope] }];

/** The part of an OpenAPI document routeScopes reads. */
interface Operation {
  security?: Record<string, string[]>[];
}
interface Document {
  paths?: { [path: string]: { get?: Operation; put?: Operation; post?: Operation; patch?: Operation; delete?: Operation } | undefined };
}

/** The scope a key needs for a request's method and path; undefined: no key may call it. */
export type ScopeOf = (method: string, path: string) => Scope | undefined;

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/**
 * The scope of each operation in the document, looked up by method and request path: fixed paths
 * first (`/api/customers/export` before `/api/customers/{id}`), then templates. Matched as Express
 * matches (case-insensitive, a trailing slash ignored).
 */
export function routeScopes(document: Document): ScopeOf {
  const fixed = new Map<string, Scope>();
  const templates: { method: string; pattern: RegExp; scope: Scope }[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const scope = item?.[method]?.security?.find((r) => r.bearerAuth !== undefined)?.bearerAuth?.[0];
      if (!isScope(scope)) continue;
      if (!path.includes('{')) fixed.set(`${method.toUpperCase()} ${path.toLowerCase()}`, scope);
      else {
        const source = path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
        templates.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source.join('[^/]+')}$`, 'i'), scope });
      }
    }
  }
  return (method, rawPath) => {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const m = method === 'HEAD' ? 'GET' : method;
    const hit = fixed.get(`${m} ${path.toLowerCase()}`);
    if (hit !== undefined) return hit;
    for (const t of templates) if (t.method === m && t.pattern.test(path)) return t.scope;
    return undefined;
  };
}
