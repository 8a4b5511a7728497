import { join } from 'node:path';
import { Router, type RequestHandler, type Response } from 'express';
import { notFound } from '../../http/errors';
import { buildOpenApiDocument } from './openapi-document';

// Swagger UI from its npm package (swagger-ui-dist): nothing is fetched from another host, so the
// page works on a machine without internet. Only these files of the package are served (its own
// index.html would load a demo document from the internet).
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// The page's own script (no inline script: the CSP allows scripts from this server only).
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>customer-api — API docs</title>
  <link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/docs/assets/docs-init.js"></script>
</body>
</html>
`;

// The API's CSP (default-src 'none') would block the page; this one allows this server's scripts,
// styles (Swagger UI sets inline style attributes) and requests, and nothing from elsewhere.
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sendPage(res: Response, type: string, body: string): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.type(type).send(body);
}

/** GET /api/openapi.json: the OpenAPI 3.1 document (public). */
export const openApiHandler: RequestHandler = (_req, res) => {
  res.setHeader('Cache-Control', 'no-cache');
  res.json(buildOpenApiDocument());
};

/** GET /api/docs: the interactive docs page and its files (public). */
export function docsRouter(): Router {
  const router = Router();
  const dist = join(require.resolve('swagger-ui-dist/package.json'), '..');

  router.get('/', (_req, res) => sendPage(res, 'text/html; charset=utf-8', PAGE));
  router.get('/assets/docs-init.js', (_req, res) => sendPage(res, 'text/javascript; charset=utf-8', INIT_SCRIPT));
  router.get('/assets/:file', (req, res, next) => {
    const type = ASSETS[req.params.file];
    if (!type) throw notFound();
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type(type).sendFile(join(dist, req.params.file), (err) => err && next(err));
  });
  return router;
}
