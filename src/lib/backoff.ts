/**
 * The wait before retry `attempt` (1, 2, …): `baseMs` doubled each time, at most `maxMs`, spread by
 * ±`jitter` (a fraction) so that instances that failed together do not retry together.
 */
export function backoffMs(attempt: number, options: { baseMs: number; maxMs: number; jitter?: number }): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
  const jitter = options.jitter ?? 0;
  return Math.round(exponential * (1 - jitter + Math.random() * 2 * jitter));
}
