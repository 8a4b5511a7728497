import type { RequestHandler, Router } from 'express';

/**
 * A feature router as one layer of the app, behind an optional guard (requireAuth): `app.use(path,
 * guard, router)` would be two layers, each matched and prefix-trimmed again on every request. It
 * records where the router is mounted, for route templates in logs and metrics (Express resets
 * req.baseUrl when an error leaves the router). An error from the guard (thrown, passed to next, or a
 * rejected promise) skips the router.
 */
export function mount(router: Router, guard?: RequestHandler): RequestHandler & { readonly router: Router } {
  const handler: RequestHandler = (req, res, next) => {
    res.locals.mountPath = req.baseUrl;
    if (guard === undefined) return router(req, res, next);
    return guard(req, res, (err?: unknown) => (err === undefined ? router(req, res, next) : next(err)));
  };
  // The router stays reachable, so that a test can list every route the app serves.
  return Object.assign(handler, { router });
}
