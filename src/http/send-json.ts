import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON answer with plain node:http calls: what Express's res.json() sends (the same
 * Content-Type and Content-Length), usable on the fast lane where there is no Express response.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
