import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { CorsSettings } from './cors';

export type HeaderList = readonly (readonly [string, string])[];

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Runs middleware against a stand-in response and keeps the headers it set. */
function headersSetBy(middleware: Middleware[]): HeaderList {
  const headers = new Map<string, [string, string]>();
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name.toLowerCase(), [name, String(value)]),
    getHeader: (name: string) => headers.get(name.toLowerCase())?.[1],
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  } as unknown as ServerResponse;
  const req = { method: 'GET', headers: {} } as IncomingMessage;
  for (const m of middleware) {
    let called = false;
    m(req, res, (err) => {
      if (err) throw err instanceof Error ? err : new Error('a header middleware failed');
      called = true;
    });
    if (!called) throw new Error('a header middleware did not answer synchronously');
  }
  return [...headers.values()];
}

/**
 * Security headers for a JSON API, after the OWASP REST Security Cheat Sheet: nothing may load or
 * frame a response (CSP default-src 'none', frame-ancestors 'none', X-Frame-Options DENY), no MIME
 * sniffing, HSTS, no Referer, and same-origin resource policy. helmet's defaults for HTML pages
 * (a page CSP, COOP, Origin-Agent-Cluster, DNS prefetch, IE download and Flash policy headers,
 * X-XSS-Protection) mean nothing for JSON and were 400 bytes on every answer.
 */
const API_HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * The headers every answer carries: helmet's security headers, and Vary: Origin when CORS is on (an
 * answer's CORS headers depend on its request's Origin: http/cors.ts), so that a cache keeps one answer
 * per origin. They depend only on the config, so they are worked out once (helmet's by helmet itself)
 * and set from a list.
 */
export function staticResponseHeaders(cors: CorsSettings): HeaderList {
  const vary: HeaderList = cors.origins.length > 0 || cors.anyOrigin ? [['Vary', 'Origin']] : [];
  return [...headersSetBy([helmet(API_HELMET_OPTIONS)]), ...vary];
}

export function setHeaders(res: ServerResponse, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}
