// The health module's public face: the app imports it only from here.
export { healthRouter } from './health-router';
export { registerHealthPaths } from './health-openapi';
