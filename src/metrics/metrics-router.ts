import { Router, type RequestHandler } from 'express';
import { getConfig } from '../config/config';
import { sameSecret } from '../lib/same-secret';
import { requireToken, type KeyAuth } from '../http/authenticate';
import { AppError, forbidden } from '../http/errors';
import type { RequestObserver } from '../http/request-logger';
import type { BoundObserver } from './bound-histogram';
import { getMetrics } from './metrics';

/** Times every answered request by method, route template (never a raw id) and status. */
export function httpMetricsObserver(): RequestObserver {
  const { httpDuration } = getMetrics();
  // One child per label set, made once: labels() would otherwise check the labels and build a new
  // observer on every request.
  const children = new Map<string, BoundObserver>();
  return (method, route, status, durationMs) => {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = httpDuration.labels({ http_request_method: method, http_route: route, http_response_status_code: status });
      children.set(key, child);
    }
    child.observe(durationMs / 1000);
  };
}

/**
 * GET /metrics in the Prometheus text format. When METRICS_TOKEN is set, it is required as a Bearer
 * token, or an admin's API key with metrics:read (docs/api.md §9).
 */
export function metricsRouter(keys: KeyAuth): Router {
  const router = Router();
  const keyGuard = requireToken(keys);
  const guard: RequestHandler = (req, res, next) => {
    const token = getConfig().metrics.token;
    if (!token || sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) return next();
    if (!/^Bearer +cak_/i.test(req.headers.authorization ?? '')) throw new AppError('UNAUTHORIZED');
    // A key acts as its owner: only an admin's key reads what METRICS_TOKEN guards.
    return keyGuard(req, res, (err?: unknown) => (err !== undefined ? next(err) : req.user?.role === 'admin' ? next() : next(forbidden())));
  };
  router.get('/', guard, async (_req, res) => {
    const { registry } = getMetrics();
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
