import { createServer, type RequestListener, type Server } from 'node:http';

// A request Node's parser refuses (duplicate Content-Length, malformed headers) never reaches
// Express; it still gets a 4xx in the API's shape instead of a bare "400 Bad Request".
const CLIENT_ERROR_BODY = JSON.stringify({ error: { code: 'VALIDATION_ERROR', message: 'Malformed HTTP request' }, request_id: null });

/** The HTTP server for the app, with JSON answers for requests that cannot be parsed. */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer(app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(CLIENT_ERROR_BODY)}\r\nConnection: close\r\n\r\n${CLIENT_ERROR_BODY}`,
    );
  });
  return server;
}
