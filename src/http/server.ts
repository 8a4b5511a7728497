import { createServer, type RequestListener, type Server } from 'node:http';
import { getConfig } from '../config/config';
import type { ErrorCode } from './errors';
import { translate } from './messages';

// A request Node's parser refuses (duplicate Content-Length, malformed headers) never reaches
// Express; it still gets a 4xx in the API's shape instead of a bare "400 Bad Request".
// Its language is the default one: the request's Accept-Language could not be read.
const clientErrorBody = (): string =>
  JSON.stringify({ error: { code: 'VALIDATION_ERROR' satisfies ErrorCode, message: translate('MALFORMED_REQUEST', getConfig().http.defaultLocale) }, request_id: null });

/** The HTTP server for the app, with JSON answers for requests that cannot be parsed. */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer(app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = clientErrorBody();
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
