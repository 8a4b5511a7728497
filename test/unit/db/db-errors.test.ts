import { isConnectionLevelError, toTypedDbError } from '../../../src/db/db-errors';
import { toAppErrorFromDb } from '../../../src/http/database-errors';

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
