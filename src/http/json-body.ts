import express, { type RequestHandler } from 'express';

/** The media types read as JSON (others on a JSON endpoint: 415, see request-prelude.ts). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Parses JSON bodies up to BODY_LIMIT; objects and arrays only. */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit, strict: true, type: JSON_TYPES });
}
