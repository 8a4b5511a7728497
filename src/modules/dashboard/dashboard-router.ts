import { Router } from 'express';
import { getConfig } from '../../config/config';
import { getDashboard } from './dashboard-service';

/** docs/api.md §6: the dashboard, at most DASHBOARD_MAX_AGE_S old, in one database round trip when computed. */
export function dashboardRouter(): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const { data, generatedAt } = await getDashboard();
    const left = Math.max(0, Math.floor((generatedAt + getConfig().dashboardMaxAgeSeconds * 1000 - Date.now()) / 1000));
    res.setHeader('Cache-Control', `private, max-age=${left}`);
    res.json({ ...data, generated_at: new Date(generatedAt).toISOString() });
  });
  return router;
}
