// The dashboard module's public face: the app imports it only from here.
export { dashboardRouter } from './dashboard-router';
export { registerDashboardPaths } from './dashboard-openapi';
