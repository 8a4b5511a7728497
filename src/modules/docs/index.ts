// The docs module's public face: the app and the CLI import it only from here.
export { docsRouter, openApiHandler } from './docs-router';
export { buildOpenApiDocument, type OpenApiDocument } from './openapi-document';
