import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { getConfig } from '../../config/config';
import { CLIENT_TIMEOUT_MARGIN_MS, copyFrom, executeWrite, setStatementLimits, type DbClient } from '../../db';
import { AppError, validationError } from '../../http/errors';
import { detail, renderDetail } from '../../http/messages';
import { answerOnce } from '../idempotency';
import { FORMULA_STARTS } from './customers-export';
import { CUSTOMER_ASSIGNED, CUSTOMER_FIELDS, CreateCustomerBodySchema, writtenValues, type ImportError, type ImportReport } from './customers-schemas';

/**
 * POST /api/customers/import (docs/api.md §5): customers from a CSV or NDJSON body, read as a stream
 * (never whole in memory). Each row is checked by the schema of POST /api/customers; the valid ones go
 * into a staging table with COPY, then into customers with one INSERT … SELECT, in one transaction: the
 * counters, search indexes and history see an ordinary insert, and a failure leaves nothing.
 */

const IMPORT_MEDIA_TYPES = ['text/csv', 'application/x-ndjson'] as const;
/** The import's route, under the customers router: it reads its body itself, as a stream (not the JSON parser). */
export const IMPORT_ROUTE = { method: 'POST', path: '/import', types: IMPORT_MEDIA_TYPES } as const;
const IMPORT_MODES = ['all-or-nothing', 'skip-invalid'] as const;
export const ImportCustomersQuerySchema = z.object({ mode: z.enum(IMPORT_MODES).default('all-or-nothing') });

/** The fields a row may set (those of POST /api/customers). */
const FIELDS = CUSTOMER_FIELDS;
/** Columns of an export that the database assigns: read and left out, so an export imports as it is. */
const ASSIGNED = new Set<string>(CUSTOMER_ASSIGNED);
const WRITTEN = CUSTOMER_FIELDS.join(', ');
const MAX_ERRORS = 1000;
/** Rows written to COPY per chunk (fewer, larger writes). */
const ROWS_PER_CHUNK = 500;


/** A row of the file: its line and its fields (strings from a CSV, any JSON from NDJSON). */
interface SourceRow {
  line: number;
  fields: Record<string, unknown> | null;
}

/** Counts the body's bytes (past the limit: 413) and hashes them (the Idempotency-Key's fingerprint). */
class MeteredBody extends Transform {
  private bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new AppError('PAYLOAD_TOO_LARGE'));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

/** A CSV cell as a value: empty is absent; the `'` an export put before a formula character comes off. */
function cellValue(cell: string): string | undefined {
  if (cell === '') return undefined;
  if (cell.length > 1 && cell[0] === "'" && FORMULA_STARTS.includes(cell[1]!)) return cell.slice(1);
  return cell;
}

async function* csvRows(body: Readable): AsyncGenerator<SourceRow> {
  const parser = body.pipe(parseCsv({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }));
  let columns: string[] | undefined;
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = lastLine + 1;
      lastLine = info.lines;
      if (columns === undefined) {
        columns = record.map((c) => c.trim());
        const unknown = columns.filter((c) => !ASSIGNED.has(c) && !(FIELDS as readonly string[]).includes(c));
        if (unknown.length > 0 || !columns.includes('name') || new Set(columns).size !== columns.length) {
          const named = { columns: [...FIELDS, ...ASSIGNED].join(', '), unknown: unknown.join(', ') };
          throw validationError([{ path: 'header', message: detail(unknown.length > 0 ? 'IMPORT_HEADER_UNKNOWN' : 'IMPORT_HEADER', named) }]);
        }
        continue;
      }
      if (record.length !== columns.length) {
        yield { line, fields: null };
        continue;
      }
      const fields: Record<string, unknown> = {};
      record.forEach((cell, i) => {
        const value = cellValue(cell);
        if (value !== undefined && !ASSIGNED.has(columns![i]!)) fields[columns![i]!] = value;
      });
      yield { line, fields };
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw validationError([{ path: 'body', message: detail('NOT_CSV', { line: lastLine, reason: (err as Error).message }) }], 'VALIDATION_ERROR', err);
    }
    throw err;
  }
}

async function* ndjsonRows(body: Readable): AsyncGenerator<SourceRow> {
  let line = 0;
  for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, fields: null };
      continue;
    }
    const fields: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (!ASSIGNED.has(key)) fields[key] = v;
    yield { line, fields };
  }
}

/** A value in COPY's text format: \N for null; backslash, tab, newline and CR escaped. */
const copyText = (value: string | null | undefined): string =>
  value === null || value === undefined ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

/**
 * Validates each row and yields the valid ones as COPY text, a chunk at a time; fills `report`. In
 * all-or-nothing mode, after the first invalid row it goes on only to report (nothing more is written).
 */
async function* validRows(rows: AsyncIterable<SourceRow>, report: ImportReport, allOrNothing: boolean): AsyncGenerator<string> {
  let chunk = '';
  let inChunk = 0;
  const reject = (error: ImportError): void => {
    // The report's messages are English: a keyed one (a schema's check) is rendered so.
    if (report.errors.length < MAX_ERRORS) report.errors.push({ ...error, message: renderDetail(error.message, 'en') ?? error.message });
  };
  for await (const row of rows) {
    const parsed = row.fields === null ? undefined : CreateCustomerBodySchema.safeParse(row.fields);
    if (!parsed?.success) {
      report.rejected += 1;
      if (!parsed) reject({ line: row.line, field: null, message: detail('NOT_A_CUSTOMER') });
      else for (const issue of parsed.error.issues) reject({ line: row.line, field: issue.path.length > 0 ? String(issue.path[0]) : null, message: issue.message });
      continue;
    }
    if (allOrNothing && report.rejected > 0) continue;
    const c = parsed.data;
    chunk += `${writtenValues(c).map(copyText).join('\t')}\n`;
    inChunk += 1;
    if (inChunk === ROWS_PER_CHUNK) {
      yield chunk;
      chunk = '';
      inChunk = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

/** The import's work in the caller's transaction: the report, or IMPORT_INVALID (which rolls it back). */
async function importInto(tx: DbClient, rows: AsyncIterable<SourceRow>, allOrNothing: boolean, createdBy: number | null): Promise<ImportReport> {
  const timeoutMs = getConfig().transfer.importTimeoutSeconds * 1000;
  await setStatementLimits(tx, { timeoutMs });
  await tx.query(`CREATE TEMP TABLE customers_import (${CUSTOMER_FIELDS.map((f) => `${f} text`).join(', ')}) ON COMMIT DROP`);
  const report: ImportReport = { inserted: 0, rejected: 0, errors: [] };
  await copyFrom('COPY customers_import FROM STDIN', validRows(rows, report, allOrNothing), { db: tx, timeoutMs });
  if (allOrNothing && report.rejected > 0) throw new AppError('IMPORT_INVALID', { report: { ...report } });
  const { rowCount } = await executeWrite(
    {
      text: `INSERT INTO customers (${WRITTEN}, created_by)
             SELECT ${WRITTEN}, $1 FROM customers_import`,
      timeoutMs: timeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    },
    [createdBy],
    tx,
  );
  report.inserted = rowCount;
  return report;
}

export async function importCustomers(req: Request, res: Response): Promise<void> {
  const { mode } = ImportCustomersQuerySchema.parse(req.query);
  const type = req.is([...IMPORT_MEDIA_TYPES]);
  if (!type) throw new AppError('UNSUPPORTED_MEDIA_TYPE', { messageKey: 'UNSUPPORTED_IMPORT_TYPE' });
  const { importMaxBytes } = getConfig().transfer;
  if (Number(req.headers['content-length'] ?? 0) > importMaxBytes) {
    res.setHeader('Connection', 'close');
    throw new AppError('PAYLOAD_TOO_LARGE');
  }
  const body = req.pipe(new MeteredBody(importMaxBytes));
  // An error passes from the request to the meter, so that the rows stop with it.
  req.once('error', (err) => body.destroy(err));
  const rows = type === 'text/csv' ? csvRows(body) : ndjsonRows(body);
  try {
    await answerOnce(
      req,
      res,
      async (tx) => ({ status: 200, headers: {}, body: await importInto(tx, rows, mode === 'all-or-nothing', req.user?.id ?? null) }),
      {
        streamedBody: {
          digest: () => body.digest(),
          drain: async () => {
            for await (const _ of body) void _;
          },
        },
      },
    );
  } catch (err) {
    // What is left of the body is not worth reading: the connection closes after the answer.
    if (!req.complete) res.setHeader('Connection', 'close');
    throw err;
  }
}
