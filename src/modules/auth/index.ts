// The auth module's public face: the app imports it only from here.
export { authRouter } from './auth-router';
export { registerAuthPaths } from './auth-openapi';
