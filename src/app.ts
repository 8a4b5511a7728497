import type { RequestListener } from 'node:http';
import express, { type RequestHandler } from 'express';
import { getConfig } from './config/config';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { requestPrelude } from './http/request-prelude';
import { mount } from './http/router';
import { httpMetricsObserver, metricsRouter } from './metrics/metrics-router';
import { requireAuth, requireToken, type KeyAuth } from './http/authenticate';
import { routeScopes } from './http/scopes';
import { staticResponseHeaders } from './http/security-headers';
import { installJsonResponse } from './http/send-json';
import { authRouter } from './modules/auth';
import { IMPORT_ROUTE, customersRouter } from './modules/customers';
import { dashboardRouter } from './modules/dashboard';
import { buildOpenApiDocument, docsRouter, openApiHandler } from './modules/docs';
import { healthRouter } from './modules/health';
import { historyRouter } from './modules/history';
import { keyRateLimit, keysRouter, resolveKey } from './modules/keys';
import { resolveCurrentUser } from './modules/sessions';
import { usersRouter } from './modules/users';
import { apiTracer } from './tracing/tracing';

/**
 * Builds the request listener without listening: one Express pipeline for every route. The order
 * below is the one place that shows what is public.
 */
export function createApp(options: { middleware?: RequestHandler[] } = {}): RequestListener {
  const config = getConfig();
  const observe = config.metrics.enabled ? httpMetricsObserver() : undefined;
  const cors = { origins: config.http.corsOrigins, anyOrigin: config.http.corsAnyOrigin };
  const headers = staticResponseHeaders(cors);
  const app = express();
  app.disable('x-powered-by');
  // ETags are set where they mean something (a customer's version); hashing every body is waste.
  app.set('etag', false);
  installJsonResponse(app);

  // Request id, log line, metrics and span (while tracing runs), security headers, CORS, 415 for non-JSON bodies, the JSON body.
  // The import reads its CSV or NDJSON body itself, as a stream.
  const customers = '/api/customers';
  const streamedBodies = [{ ...IMPORT_ROUTE, path: `${customers}${IMPORT_ROUTE.path}` }];
  app.use(requestPrelude({ observe, tracer: apiTracer(), headers, cors, bodyLimit: config.http.bodyLimit, streamedBodies }));
  // A concern added here (an audit line, a tenant check) applies to every route: there is one path.
  for (const m of options.middleware ?? []) app.use(m);

  // API keys: the scope each route needs is the one its OpenAPI registration declares (docs/api.md §9).
  const keys: KeyAuth = { resolveKey, scopeOf: routeScopes(buildOpenApiDocument()), limit: keyRateLimit() };

  // Public: liveness and readiness (the db routes check the token or key themselves), and metrics
  // (guarded by METRICS_TOKEN, or a key with metrics:read, when METRICS_TOKEN is set).
  app.use('/api/health', mount(healthRouter(requireToken(keys))));
  if (config.metrics.enabled) app.use('/metrics', mount(metricsRouter(keys)));
  // Public: the OpenAPI document and the docs page.
  app.get('/api/openapi.json', openApiHandler);
  app.use('/api/docs', mount(docsRouter()));
  // Public: login. /me and /change-password authenticate themselves.
  app.use('/api/auth', mount(authRouter()));

  // Everything below needs a valid token of an active user, or an API key with the route's scope.
  const authenticated = requireAuth(resolveCurrentUser, keys);
  app.use('/api/users', mount(usersRouter(), authenticated));
  app.use(customers, mount(customersRouter(), authenticated));
  app.use('/api/dashboard', mount(dashboardRouter(), authenticated));
  app.use('/api/history', mount(historyRouter(), authenticated));
  app.use('/api/keys', mount(keysRouter(), authenticated));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
