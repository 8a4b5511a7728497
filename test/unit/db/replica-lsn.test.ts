import { parseLsn } from '../../../src/db/replicas';

describe('parseLsn', () => {
  test('orders WAL positions as the server does, across the 32-bit boundary of the text form', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('0/FFFFFFFF') < parseLsn('1/0')).toBe(true);
    expect(parseLsn('A/10') > parseLsn('9/FFFFFFF0')).toBe(true);
  });
});
