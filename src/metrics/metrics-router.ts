import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Router, type RequestHandler } from 'express';
import type { Histogram } from 'prom-client';
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
  // One child per label set, made once: prom-client would otherwise hash the labels on every request.
  const children = new Map<string, Histogram.Internal<'http_request_method' | 'http_route' | 'http_response_status_code'>>();
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = routeTemplateOf(req);
      const key = `${req.method} ${route} ${res.statusCode}`;
      let child = children.get(key);
      if (!child) {
        child = httpDuration.labels({ http_request_method: req.method, http_route: route, http_response_status_code: res.statusCode });
        children.set(key, child);
      }
      child.observe((performance.now() - started) / 1000);
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
