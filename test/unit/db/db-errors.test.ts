import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyDbError, isConnectionLevelError, lockConflict, nothingRan, sqlState, toTypedDbError } from '../../../src/db/db-errors';
import { toAppErrorFromDb } from '../../../src/http/db-error-answers';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('isConnectionLevelError', () => {
  test.each(['08006', '08003', '57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'])('%s destroys the client', (code) => {
    expect(isConnectionLevelError(pgError(code))).toBe(true);
  });

  test.each(['23505', '23503', '22P02', '42P01', '57014', '40001'])('%s keeps the client', (code) => {
    expect(isConnectionLevelError(pgError(code))).toBe(false);
  });

  test("node-postgres' code-less connection errors destroy the client", () => {
    expect(isConnectionLevelError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLevelError(new Error('Query read timeout'))).toBe(true);
  });
});

describe('toAppErrorFromDb', () => {
  test.each([
    ['23505', 'CONFLICT', 409],
    ['23503', 'VALIDATION_ERROR', 400],
    ['22P02', 'VALIDATION_ERROR', 400],
    ['22021', 'VALIDATION_ERROR', 400],
    ['57014', 'QUERY_TIMEOUT', 503],
    ['08006', 'DATABASE_UNAVAILABLE', 503],
    ['57P01', 'DATABASE_UNAVAILABLE', 503],
  ])('SQLSTATE %s → %s', (code, apiCode, status) => {
    expect(toAppErrorFromDb(toTypedDbError(pgError(code)))).toMatchObject({ code: apiCode, status });
  });

  test('an unknown error is not a database error', () => {
    expect(toAppErrorFromDb(new Error('boom'))).toBeUndefined();
  });
});

describe('the SQLSTATE table', () => {
  test('class 08 is a connection error by its class, whatever the code after it', () => {
    expect(classifyDbError(pgError('08P01'))).toBe('unavailable');
    expect(isConnectionLevelError(pgError('08P01'))).toBe(true);
  });

  test('nothing ran: a session the server ended, a read-only refusal, a lost prepared statement, a lock not had; not a timeout or a constraint', () => {
    expect(['57P01', '57P02', '25006', '26000', '42P05', '55P03', '40P01'].filter((s) => !nothingRan(s))).toEqual([]);
    expect(['57014', '23505', '08006', '40001'].filter((s) => nothingRan(s))).toEqual([]);
    expect(nothingRan(undefined)).toBe(false);
  });

  test('lock conflicts say which', () => {
    expect([lockConflict('55P03'), lockConflict('40P01'), lockConflict('57014'), lockConflict(undefined)]).toEqual(['timeout', 'deadlock', undefined, undefined]);
  });

  test("an error's SQLSTATE is read through its causes; a socket code is not one", () => {
    expect(sqlState(new Error('wrapped', { cause: pgError('23503') }))).toBe('23503');
    expect(sqlState(pgError('ECONNRESET'))).toBeUndefined();
    expect(classifyDbError(new Error('wrapped', { cause: pgError('23503') }))).toBe('missing_reference');
  });
});

test('no SQLSTATE is written outside db-errors.ts (the one table of what each means)', () => {
  const root = join(__dirname, '..', '..', '..');
  const files = execFileSync('git', ['ls-files', 'src'], { cwd: root }).toString().trim().split('\n').filter((f) => f.endsWith('.ts') && f !== 'src/db/db-errors.ts');
  const sqlState = /'(?:0[0-9A-Z]|2[0-9A-Z]|4[0-9A-Z]|5[0-9A-Z])[0-9A-Z]{3}'/;
  expect(files.filter((f) => sqlState.test(readFileSync(join(root, f), 'utf8')))).toEqual([]);
});
