import express, { type RequestHandler } from 'express';
import { AppError } from './errors';

const JSON_TYPES = ['application/json', 'application/*+json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** A body that is not JSON on a JSON endpoint → 415 (instead of being silently ignored). */
export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (METHODS_WITH_BODY.has(req.method) && hasBody && !req.is(JSON_TYPES)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE');
  }
  next();
};

/** Parses JSON bodies up to BODY_LIMIT; objects and arrays only. */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit, strict: true, type: JSON_TYPES });
}
