import { Router } from 'express';

/** A feature router that remembers where it is mounted, for route templates in logs and metrics. */
export function createRouter(): Router {
  const router = Router();
  router.use((req, res, next) => {
    res.locals.mountPath = req.baseUrl;
    next();
  });
  return router;
}
