import type { Router } from 'express';
import { createRouter } from '../../http/router';
import { readDashboard } from './dashboard-repository';

/** API.md §6: the dashboard, in one database round trip. */
export function dashboardRouter(): Router {
  const router = createRouter();
  router.get('/', async (_req, res) => {
    res.json({ ...(await readDashboard()), generated_at: new Date().toISOString() });
  });
  return router;
}
