import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerMetricsPaths } from '../../metrics/metrics-openapi';
import { registerKeysPaths } from '../keys';
import { registerAuthPaths } from '../auth';
import { registerCustomersPaths } from '../customers';
import { registerDashboardPaths } from '../dashboard';
import { registerHealthPaths } from '../health';
import { registerHistoryPaths } from '../history';
import { registerUsersPaths } from '../users';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

let document: OpenApiDocument | undefined;

/**
 * The OpenAPI 3.1 document of docs/api.md, generated from the zod schemas that validate the requests
 * (and the answers' schemas next to them): it cannot drift from the code. Built once per process.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  if (document) return document;
  // package.json is three folders up from src/modules/docs and from dist/modules/docs alike.
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      "An access token (POST /api/auth/login) or an API key (`cak_…`, POST /api/keys). Where an operation's requirement lists a scope, a key needs it; where it lists none, no key may call it (docs/api.md §9).",
  });
  registry.registerComponent('securitySchemes', 'metricsToken', { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set' });
  registerHealthPaths(registry);
  registerAuthPaths(registry);
  registerUsersPaths(registry);
  registerKeysPaths(registry);
  registerCustomersPaths(registry);
  registerDashboardPaths(registry);
  registerHistoryPaths(registry);
  registerMetricsPaths(registry);
  document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'customer-api',
      version,
      description:
        'Customer-management REST API on a pooled PostgreSQL. Log in with POST /api/auth/login, then send `Authorization: Bearer <token>`. Every error has the Error shape; `message` is localized with Accept-Language (en, tr).',
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [
      { name: 'Auth' },
      { name: 'Customers' },
      { name: 'Dashboard' },
      { name: 'History', description: 'Who changed what: every change to customers and users' },
      { name: 'Users', description: 'Admins manage users; a user may read itself' },
      { name: 'API keys', description: 'Credentials for machines: scoped, expiring, revocable (docs/api.md §9)' },
      { name: 'Health', description: 'For ops: liveness, readiness, the pool' },
      { name: 'Operations' },
    ],
  });
  return document;
}
