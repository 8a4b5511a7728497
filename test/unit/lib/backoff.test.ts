import { backoffMs } from '../../../src/lib/backoff';

describe('backoffMs', () => {
  test('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, { baseMs: 250, maxMs: 5000 }))).toEqual([250, 500, 1000, 2000, 4000, 5000]);
  });

  test('jitter spreads each wait within ±jitter of it, never beyond', () => {
    const waits = Array.from({ length: 500 }, () => backoffMs(3, { baseMs: 1000, maxMs: 10_000, jitter: 0.2 }));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(3200);
    expect(Math.max(...waits)).toBeLessThanOrEqual(4800);
    expect(new Set(waits).size).toBeGreaterThan(10);
  });
});
