// The Node ceiling: node:http + pg.Pool(max 10), no framework, running the by-id SQL of the API.
// Started by the benchmark as its own process: node bench/lib/bare-server.js <port> <databaseUrl> [prepared]
// With `prepared`, the SQL is a named prepared statement, as the API runs it.
import { createServer } from 'node:http';
import pg from 'pg';

const [port, databaseUrl, mode] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, ssl: false });
pool.on('error', () => undefined);
const SQL = 'SELECT id, name, email, phone, company, city, status, notes, version, created_at, updated_at, created_by FROM customers WHERE id = $1';

const server = createServer((req, res) => {
  // /static touches no database: what the load generator itself can drive on this machine.
  if (req.url === '/static') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
    return;
  }
  const id = Number((req.url ?? '').split('/').pop());
  const query = mode === 'prepared' ? pool.query({ name: 'by_id', text: SQL, values: [id] }) : pool.query(SQL, [id]);
  query.then(
    (result) => {
      const body = JSON.stringify(result.rows[0] ?? null);
      res.writeHead(result.rows[0] ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body);
    },
    () => {
      res.writeHead(503);
      res.end();
    },
  );
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
