import type { IncomingMessage } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * The answer headers the contract asks a client to read (docs/api.md), which a page on another origin
 * sees only when they are exposed. Content-Type, Content-Length and Cache-Control are readable anyway;
 * Set-Cookie never is. traceparent: the trace a request joined (W3C Trace Context; docs/operations.md: Tracing).
 */
export const EXPOSED_HEADERS = ['ETag', 'Location', 'X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition', 'WWW-Authenticate', 'traceparent'] as const;

/** The request headers a page may send besides the safelisted ones (the preflight's answer). */
const ALLOWED_REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept-Language',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'X-Request-Id',
  'traceparent',
  'tracestate',
] as const;

const COMMON: cors.CorsOptions = {
  methods: 'GET, HEAD, POST, PUT, PATCH, DELETE',
  allowedHeaders: ALLOWED_REQUEST_HEADERS.join(', '),
  exposedHeaders: EXPOSED_HEADERS.join(', '),
  maxAge: 600,
  optionsSuccessStatus: 204,
};

export interface CorsSettings {
  /** Origins answered with credentials (and trusted with the refresh cookie). */
  readonly origins: readonly string[];
  /** `*` in CORS_ORIGINS: any other origin may read answers, without credentials. */
  readonly anyOrigin: boolean;
}

/**
 * CORS from CORS_ORIGINS, by the `cors` package with options chosen per request from three made once: a
 * listed origin gets itself in Access-Control-Allow-Origin, with credentials (the refresh cookie) and the
 * exposed headers; with `*`, any other origin gets `*` and the exposed headers, never credentials; an
 * origin that is neither gets no CORS header at all (`origin: false`; the browser then keeps the answer
 * from the page: a single set of options would still send it Allow-Credentials and Expose-Headers). An
 * allowed origin's preflight is answered here (204); every other request goes on to its route.
 */
export function corsPolicy({ origins, anyOrigin }: CorsSettings): RequestHandler {
  const listed = new Set(origins);
  const credentialed: cors.CorsOptions = { ...COMMON, origin: true, credentials: true };
  const anonymous: cors.CorsOptions = { ...COMMON, origin: '*' };
  const foreign: cors.CorsOptions = { origin: false };
  return cors((req, done) => {
    const origin = req.headers.origin;
    done(null, origin !== undefined && listed.has(origin) ? credentialed : anyOrigin ? anonymous : foreign);
  });
}

/**
 * Whether a request comes from the API's own origin or a listed one (CORS_ORIGINS, never `*`): the
 * CSRF check of the routes the refresh cookie authenticates. The API's own origin is its Host header
 * with http or https: the scheme is not compared, since TLS usually ends at a proxy (no `trust proxy` is
 * set, so the request does not know it came over HTTPS). No Origin (or `null`) is not trusted.
 */
export function isTrustedOrigin(req: IncomingMessage, origins: readonly string[]): boolean {
  const origin = req.headers.origin?.toLowerCase();
  if (origin === undefined) return false;
  if (req.headers.host !== undefined && isOwnOrigin(origin, req.headers.host.toLowerCase())) return true;
  return origins.includes(origin);
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * Whether `origin` names the host the request was sent to. Ports are compared as a browser means
 * them: `Host: api.example.com:443` (a proxy passing the port on) is `https://api.example.com`, and a
 * Host without a port matches an origin on its scheme's default port.
 */
function isOwnOrigin(origin: string, host: string): boolean {
  let o: URL;
  let h: URL;
  try {
    o = new URL(origin);
    h = new URL(`http://${host}`);
  } catch {
    return false;
  }
  if (!(o.protocol in DEFAULT_PORTS) || o.hostname !== h.hostname) return false;
  const hostPort = /:\d+$/.test(host) ? host.slice(host.lastIndexOf(':') + 1) : undefined;
  if (hostPort === undefined) return o.port === '';
  return (o.port || DEFAULT_PORTS[o.protocol]) === String(Number(hostPort));
}
