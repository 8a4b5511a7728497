import type { ServerResponse } from 'node:http';
import type { Express, Response } from 'express';

/** Writes a JSON answer with plain node:http calls: the Content-Type and Content-Length res.json() sends. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** sendJson for a body already serialized (a stored answer replayed byte for byte). */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * res.json() for every route of the app: sendJson, and 304 for a GET whose If-None-Match matches the
 * answer's ETag. Express's own res.json() goes through res.send(), which negotiates the charset and
 * content type of any body again on every answer; a JSON API needs none of it.
 */
export function installJsonResponse(app: Express): void {
  app.response.json = function json(this: Response, body: unknown): Response {
    if (this.statusCode === 200 && this.getHeader('ETag') !== undefined && this.req.fresh) {
      this.statusCode = 304;
      this.end();
      return this;
    }
    sendJson(this, this.statusCode, body);
    return this;
  };
}
