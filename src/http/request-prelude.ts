import { context, type Tracer } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { startRequestSpan } from './request-span';
import { AppError } from './errors';
import { JSON_TYPES, jsonBody } from './json-body';
import { traceRequest, type RequestObserver } from './request-logger';
import { routeTemplateOf, userIdOf } from './request-context';
import { corsPolicy, type CorsSettings } from './cors';
import { setHeaders, type HeaderList } from './security-headers';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

interface PreludeOptions {
  observe: RequestObserver | undefined;
  /** Set while tracing runs: each request gets a server span. */
  tracer?: Tracer | undefined;
  headers: HeaderList;
  cors: CorsSettings;
  bodyLimit: string;
  /** Routes that read their own body as a stream (an import): left unread when of one of their types. */
  streamedBodies?: readonly StreamedBody[];
}

export interface StreamedBody {
  readonly method: string;
  readonly path: string;
  readonly types: readonly string[];
}

/**
 * What every request goes through before its route, as one middleware (each Express layer costs a
 * dispatch on every request): its id, its log line and metrics when it ends and its span while tracing runs, the security
 * headers (a list worked out once), CORS for a request that has an Origin (an allowed origin's preflight
 * ends here), a 415 for a body that is not JSON, and the JSON body when there is one (a streamed body is
 * left to its route). A request without a body is read to its end at once, so that Node does not have to
 * drain it after the answer.
 */
export function requestPrelude({ observe, tracer, ...rest }: PreludeOptions): RequestHandler {
  const prelude = preludeAfterTracing(rest);
  return (req, res, next) => {
    // Traced: the request's span, and (sampled) the rest of the request runs in its context.
    const traced = tracer && startRequestSpan(tracer, req, res);
    req.id = traceRequest(req, res, () => ({ route: routeTemplateOf(req), userId: userIdOf(req), keyId: req.keyId }), observe, traced?.span);
    // The JSON body parser (raw-body) calls `next` in the context it was called in, however late the
    // body arrives: nothing needs binding (the emitters' listeners are not wrapped: that costs on every request).
    if (traced?.ctx) context.with(traced.ctx, prelude, undefined, req, res, next);
    else prelude(req, res, next);
  };
}

/** The rest of the prelude, after the request's id, log line and span. */
function preludeAfterTracing({ headers, cors, bodyLimit, streamedBodies = [] }: Omit<PreludeOptions, 'observe' | 'tracer'>): RequestHandler {
  const answerCors = corsPolicy(cors);
  const parseJson = jsonBody(bodyLimit);
  return (req, res, next) => {
    setHeaders(res, headers);
    const body = (): void => {
      const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
      if (!hasBody) {
        req.resume();
        next();
      } else if (streamedBodies.some((s) => s.method === req.method && s.path === req.path && req.is([...s.types]))) {
        next();
      } else if (METHODS_WITH_BODY.has(req.method) && !req.is(JSON_TYPES)) {
        next(new AppError('UNSUPPORTED_MEDIA_TYPE'));
      } else {
        parseJson(req, res, next);
      }
    };
    // An allowed origin's preflight is answered by the CORS middleware and goes no further.
    if (req.headers.origin !== undefined) answerCors(req, res, (err?: unknown) => (err ? next(err) : body()));
    else body();
  };
}
