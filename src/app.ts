import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { getConfig } from './config/config';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody, requireJsonContentType } from './http/json-body';
import { requestLogger } from './http/request-logger';
import { httpMetrics, metricsRouter } from './metrics/metrics-router';
import { requireAuth } from './http/authenticate';
import { authRouter } from './modules/auth/auth-router';
import { resolveCurrentUser } from './modules/auth/current-user';
import { customersRouter } from './modules/customers/customers-router';
import { dashboardRouter } from './modules/dashboard/dashboard-router';
import { healthRouter } from './modules/health/health-router';
import { usersRouter } from './modules/users/users-router';

/** Builds the Express app without listening. The order below is the one place that shows what is public. */
export function createApp(): Express {
  const config = getConfig();
  const app = express();
  app.disable('x-powered-by');
  // ETags are set where they mean something (a customer's version); hashing every body is waste.
  app.set('etag', false);

  app.use(requestLogger());
  if (config.metrics.enabled) app.use(httpMetrics());
  app.use(helmet());
  app.use(cors({ origin: config.http.corsOrigins.length > 0 ? [...config.http.corsOrigins] : false, maxAge: 600 }));
  app.use(requireJsonContentType);
  app.use(jsonBody(config.http.bodyLimit));

  // Public: liveness and readiness (the db routes check the token themselves), and metrics
  // (guarded by METRICS_TOKEN when it is set).
  app.use('/api/health', healthRouter());
  if (config.metrics.enabled) app.use('/metrics', metricsRouter());
  // Public: login. /me and /change-password authenticate themselves.
  app.use('/api/auth', authRouter());

  // Everything below needs a valid token of an active user.
  const authenticated = requireAuth(resolveCurrentUser);
  app.use('/api/users', authenticated, usersRouter());
  app.use('/api/customers', authenticated, customersRouter());
  app.use('/api/dashboard', authenticated, dashboardRouter());

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
