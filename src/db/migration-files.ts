import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the .sql files are, from src/db (ts) and from dist/db (compiled) alike. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'src', 'db', 'migrations');

/**
 * A migration whose first line is this marker runs outside a transaction, one statement at a time:
 * `CREATE INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY` refuse to run inside one.
 */
export const NO_TRANSACTION_MARKER = '-- migrate: no-transaction';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
  /** false: the file starts with NO_TRANSACTION_MARKER. */
  transaction: boolean;
}

/** A migration from its file name and text (tests build their own). */
export function toMigration(name: string, sql: string): Migration {
  const firstLine = sql.split('\n', 1)[0]!.trim();
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex'), transaction: firstLine !== NO_TRANSACTION_MARKER };
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => toMigration(file, readFileSync(join(dir, file), 'utf8')));
}

/**
 * The statements of a no-transaction migration, split at each `;` that is not inside a string, a quoted
 * identifier, a dollar-quoted body or a comment (PostgreSQL would run a multi-statement text as one
 * implicit transaction, which CONCURRENTLY refuses). Empty statements and comments alone are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number): void => {
    const text = sql.slice(start, end).trim();
    if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() !== '') statements.push(text);
  };
  while (i < sql.length) {
    const rest = sql.slice(i);
    if (rest.startsWith('--')) {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (sql[i] === "'" || sql[i] === '"') {
      const quote = sql[i]!;
      let j = i + 1;
      // A doubled quote is the quote itself.
      while (j < sql.length && !(sql[j] === quote && sql[j + 1] !== quote)) j += sql[j] === quote ? 2 : 1;
      i = j + 1;
    } else if (sql[i] === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(rest)?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
      } else {
        i += 1;
      }
    } else if (sql[i] === ';') {
      push(i);
      start = i + 1;
      i += 1;
    } else {
      i += 1;
    }
  }
  push(sql.length);
  return statements;
}

/** The index a statement builds concurrently (`CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name`), if it does. */
export function concurrentIndexOf(statement: string): string | undefined {
  const match = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?)/i.exec(
    statement.replace(/^(?:\s*--[^\n]*\n)+/, ''),
  );
  return match?.[1];
}
