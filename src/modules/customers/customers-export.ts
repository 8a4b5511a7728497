import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { getConfig } from '../../config/config';
import { READ_REPLICA, copyTo } from '../../db';
import { AppError } from '../../http/errors';
import { getLogger } from '../../logging/logger';
import { customersPageQuery } from './customers-repository';
import { CUSTOMER_COLUMNS, CUSTOMER_FIELDS, ExportCustomersQuerySchema, type ExportCustomersQuery, type ListCustomersQuery } from './customers-schemas';

/**
 * GET /api/customers/export (docs/api.md §5): every customer the list's filters match, streamed from
 * one snapshot. The rows leave PostgreSQL already written out (COPY … TO STDOUT: CSV, or one JSON
 * object per line), so this process only passes bytes along: memory stays flat at any size, and
 * reading pauses while the client's socket is full.
 */

/** The columns of an export: a customer's, in the API's order; a CSV's header row names them. */
export const EXPORT_COLUMNS = CUSTOMER_COLUMNS;
/** The free-text columns, which a spreadsheet could take for a formula: every written field but the status (one of CUSTOMER_STATUSES). */
const TEXT_COLUMNS = new Set<string>(CUSTOMER_FIELDS.filter((f) => f !== 'status'));

/**
 * Timestamps are written by PostgreSQL's own output function, in UTC (the statement's TimeZone): ISO
 * 8601 with microseconds — `2026-12-05 02:43:26.443591+00` in CSV, `2026-12-05T02:43:26.443591+00:00`
 * in NDJSON (row_to_json). The API's JSON form (toISOString, milliseconds) through to_char made the
 * whole export 1.45× slower than the raw dump (docs/api.md, "Export and import").
 */
const EXPORT_SETTINGS = { timezone: 'UTC', datestyle: 'ISO, YMD' };

/**
 * OWASP's CSV-injection advice: a cell starting with =, +, -, @, tab or CR is written with a `'` first,
 * so a spreadsheet shows it as text. A cell starting with `'` gets one too, so that an import takes
 * exactly one off and every value comes back as it was.
 */
export const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r', "'"];
/**
 * FORMULA_STARTS as code points: the test is `ascii(cell) IN (…)`, integer comparisons on the first
 * character. `left(cell, 1) IN ('=', …)` built a text per cell and compared it seven times under the
 * collation: it made a million-row CSV 1.8× slower than the plain dump, ascii() about 1.1×.
 */
const FORMULA_CODES = FORMULA_STARTS.map((c) => c.codePointAt(0)!).join(', ');
const defusedOf = (column: string): string => `CASE WHEN ascii(${column}) IN (${FORMULA_CODES}) THEN '''' || ${column} ELSE ${column} END`;

function selectList(format: ExportCustomersQuery['format']): string {
  return EXPORT_COLUMNS.map((c) => {
    if (format === 'csv' && TEXT_COLUMNS.has(c)) return `${defusedOf(c)} AS ${c}`;
    return c;
  }).join(', ');
}

/**
 * The COPY statement: the list's own filters (the same conditions and indexes), every match, in the
 * list's order. Where one index gives the order and the filter together (no filter, or status or city
 * with the default sort), the rows are streamed in that index's order as they are read (`enable_sort`
 * off for this statement): the first bytes leave at once. Sorting a million rows first, as the planner
 * prefers for a whole table, kept the first byte waiting 3.1 s. Other filters are left to the planner
 * (a search's few matches are sorted).
 */
export function exportStatement(query: ExportCustomersQuery): { text: string; params: string[]; settings: Record<string, string> } {
  const list: ListCustomersQuery = { ...query, limit: 1, count: 'none' };
  const page = customersPageQuery(list, { offset: 0 });
  const conditions = page.matchIndex === undefined ? page.where : [page.matchIndex, ...page.where];
  const direction = page.sort.descending ? 'DESC' : 'ASC';
  // A bare name in ORDER BY would mean the output column of that name (created_at as text, name with its
  // defusing quote): the table's own columns are named with the table.
  const key = /^[a-z_]+$/.test(page.sort.key) ? `customers.${page.sort.key}` : page.sort.key;
  const select = `SELECT ${selectList(query.format)} FROM customers${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${key} ${direction}, customers.id ${direction}`;
  const text =
    query.format === 'csv'
      ? `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`
      : // One JSON object per line: in CSV mode with a quote and a delimiter that JSON text never holds
        // raw (it escapes control characters), each line is the object exactly as row_to_json wrote it.
        `COPY (SELECT row_to_json(c) FROM (${select}) c) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;
  const walk = page.where.length === 0 || page.filter === 'ordered';
  return { text, params: page.filterParams, settings: walk ? { ...EXPORT_SETTINGS, enable_sort: 'off' } : EXPORT_SETTINGS };
}

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * RFC 4180 ends records with CRLF; PostgreSQL's CSV ends them with LF. Each LF outside quotes becomes
 * CRLF (a quoted value keeps its own line breaks as they are).
 */
class CrlfRecords extends Transform {
  private quoted = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let written = 0;
    let from = 0;
    let quote = chunk.indexOf(QUOTE);
    let lf = chunk.indexOf(LF);
    while (lf !== -1) {
      while (quote !== -1 && quote < lf) {
        this.quoted = !this.quoted;
        quote = chunk.indexOf(QUOTE, quote + 1);
      }
      if (!this.quoted) {
        written += chunk.copy(out, written, from, lf);
        out[written++] = 0x0d;
        out[written++] = LF;
        from = lf + 1;
      }
      lf = chunk.indexOf(LF, lf + 1);
    }
    while (quote !== -1) {
      this.quoted = !this.quoted;
      quote = chunk.indexOf(QUOTE, quote + 1);
    }
    written += chunk.copy(out, written, from);
    done(null, out.subarray(0, written));
  }
}

let running = 0;

/** Waits for the first bytes (or the end): an error before them is still an ordinary error answer. */
function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('readable', ok).off('end', ok).off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const ok = (): void => done();
    stream.once('readable', ok).once('end', ok).once('error', done);
  });
}

const today = (): string => new Date().toISOString().slice(0, 10);

export async function exportCustomers(req: Request, res: Response): Promise<void> {
  const query = ExportCustomersQuerySchema.parse(req.query);
  const { exportMaxConcurrent, exportTimeoutSeconds } = getConfig().transfer;
  // Exports hold a client for long: a few at a time leave the pool to the rest of the API.
  if (running >= exportMaxConcurrent) throw new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: 10 });
  running += 1;
  try {
    const { text, params, settings } = exportStatement(query);
    const rows = copyTo(text, params, { db: READ_REPLICA, timeoutMs: exportTimeoutSeconds * 1000, settings });
    try {
      await firstBytes(rows);
    } catch (err) {
      rows.destroy();
      throw err;
    }
    const csv = query.format === 'csv';
    res.status(200);
    res.setHeader('Content-Type', csv ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="customers-${today()}.${query.format}"`);
    res.setHeader('Cache-Control', 'no-store');
    if (csv && query.bom) res.write('\uFEFF');
    try {
      // A client that goes away, or a database that fails mid-way, ends the pipeline: the statement is
      // stopped, and the response is cut off (never a short file that ends cleanly).
      await (csv ? pipeline(rows, new CrlfRecords(), res) : pipeline(rows, res));
    } catch (err) {
      if (!res.destroyed) res.destroy();
      const clientLeft = (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
      getLogger()[clientLeft ? 'info' : 'warn']({ err, requestId: req.id }, clientLeft ? 'the client left a customer export before its end' : 'a customer export failed before its last row');
    }
  } finally {
    running -= 1;
  }
}
