import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { getConfig } from '../config/config';
import { AppError } from '../http/errors';
import { routeTemplateOf } from '../http/request-context';
import { getMetrics } from './metrics';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Times every request by method, route template (never a raw id) and status. */
export function httpMetrics(): RequestHandler {
  const { httpDuration } = getMetrics();
  return (req, res, next) => {
    const end = httpDuration.startTimer();
    res.once('finish', () => {
      end({ http_request_method: req.method, http_route: routeTemplateOf(req), http_response_status_code: res.statusCode });
    });
    next();
  };
}

/** GET /metrics in the Prometheus text format; METRICS_TOKEN, when set, is required as a Bearer token. */
export function metricsRouter(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const token = getConfig().metrics.token;
    if (token && !sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) throw new AppError('UNAUTHORIZED');
    const { registry } = getMetrics();
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
