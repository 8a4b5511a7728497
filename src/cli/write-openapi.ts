// npm run openapi [-- <file>]: writes the OpenAPI document (as GET /api/openapi.json serves it) to
// docs/openapi.json, or to <file>. No database is needed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildOpenApiDocument } from '../modules/docs';

const file = resolve(process.argv[2] ?? 'docs/openapi.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
process.stdout.write(`OpenAPI document written to ${file}\n`);
