import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument, type OpenApiDocument } from '../../src/modules/docs/openapi-document';

/**
 * The contract check: every answer the in-process app gives in the API tests is validated against
 * the OpenAPI document (GET /api/openapi.json) — the route, its status, and the JSON body against the
 * schema for that status. A drift between the code and the document fails the test that saw it.
 */

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literal: number;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

let operations: Operation[] | undefined;
let doc: OpenApiDocument | undefined;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();
const violations: string[] = [];

function load(): Operation[] {
  doc ??= buildOpenApiDocument();
  operations ??= Object.entries(doc.paths ?? {}).flatMap(([template, item]) =>
    Object.entries(item as Record<string, { responses?: Operation['responses'] }>)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        literal: template.split('/').filter((s) => s && !s.startsWith('{')).length,
        responses: op.responses ?? {},
      })),
  );
  return operations;
}

function validatorFor(key: string, schema: object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: doc!.components });
    validators.set(key, validate);
  }
  return validate;
}

/** application/json or a +json type (not application/x-ndjson, which is lines of JSON). */
const isJson = (contentType: string | undefined): boolean => contentType !== undefined && /^application\/([\w.-]+\+)?json\b/.test(contentType);

/** Checks one answer; returns what is wrong with it (nothing when it fits the document). */
export function checkAnswer(method: string, url: string, status: number, contentType: string | undefined, body: string): string[] {
  const path = url.split('?')[0]!;
  const candidates = load()
    .filter((op) => op.pattern.test(path))
    .sort((a, b) => b.literal - a.literal);
  const what = `${method} ${path} → ${status}`;
  const op = candidates.find((o) => o.method === method);
  // Not a documented route (an unknown path or method, the docs page): only an error must have the Error shape.
  if (!op) {
    if (status < 400 || !isJson(contentType)) return [];
    return validate(`Error`, { $ref: '#/components/schemas/Error' }, what, body);
  }
  const response = op.responses[String(status)];
  if (!response) return [`${what}: status ${status} is not in the document for ${op.method} ${op.template}`];
  if (method === 'HEAD' || status === 204 || status === 304) return body === '' ? [] : [`${what}: a body where none is documented`];
  const json = response.content?.['application/json'];
  if (!json) return isJson(contentType) ? [`${what}: JSON where the document has ${Object.keys(response.content ?? {}).join(', ') || 'no body'}`] : [];
  if (!contentType?.includes('application/json')) return [`${what}: content-type ${contentType} where the document has application/json`];
  return validate(`${op.method} ${op.template} ${status}`, json.schema ?? {}, what, body);
}

function validate(key: string, schema: object, what: string, body: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return [`${what}: the body is not JSON`];
  }
  const check = validatorFor(key, schema);
  if (check(value)) return [];
  return (check.errors ?? []).map((e) => `${what}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Wraps the app: each finished answer is checked, and what does not fit is kept for takeViolations(). */
export function withContractCheck(app: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    // Express rewrites req.url inside mounted routers: the path as sent is taken now.
    const { method = 'GET', url = '/' } = req;
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') keep(chunk);
      return end(chunk, ...rest);
    }) as typeof res.end;
    res.once('finish', () => {
      const contentType = res.getHeader('content-type');
      violations.push(...checkAnswer(method, url, res.statusCode, contentType === undefined ? undefined : String(contentType), Buffer.concat(chunks).toString('utf8')));
    });
    app(req, res);
  };
}

/** The violations seen since the last call (and forgets them). */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}
