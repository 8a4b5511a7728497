import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { getConfig } from './config/config';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody, requireJsonContentType } from './http/json-body';
import { requestLogger } from './http/request-logger';
import { healthRouter } from './modules/health/health-router';

/** Builds the Express app without listening. The order below is the one place that shows what is public. */
export function createApp(): Express {
  const config = getConfig();
  const app = express();
  app.disable('x-powered-by');

  app.use(requestLogger());
  app.use(helmet());
  app.use(cors({ origin: config.http.corsOrigins.length > 0 ? [...config.http.corsOrigins] : false, maxAge: 600 }));
  app.use(requireJsonContentType);
  app.use(jsonBody(config.http.bodyLimit));

  // Public: liveness and readiness (the db routes check the token themselves).
  app.use('/api/health', healthRouter());

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
