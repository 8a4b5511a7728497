import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../../../src/metrics/bound-histogram';

// The bound histogram must write exactly what prom-client's own histogram writes for the same
// observations: dashboards and alerts read the text, not the class behind it.

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.0005, 0.001, 0.004, 0.01, 0.05, 0.5, 1, 3, 42];

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const bound = new BoundHistogram('op_seconds', 'Duration', ['pool_name', 'op'], BUCKETS, ours);
  const reference = new Histogram({ name: 'op_seconds', help: 'Duration', labelNames: ['pool_name', 'op'], buckets: BUCKETS, registers: [theirs] });
  return { ours, theirs, bound, reference };
}

describe('BoundHistogram', () => {
  test('its exposition is prom-client histogram\'s, byte for byte, for the same observations on several label sets', async () => {
    const { ours, theirs, bound, reference } = pair();
    const select = bound.labels({ pool_name: 'main', op: 'SELECT' });
    for (const v of VALUES) {
      select.observe(v);
      reference.observe({ pool_name: 'main', op: 'SELECT' }, v);
    }
    bound.observe({ pool_name: 'replica-1', op: 'INSERT' }, 0.02);
    reference.observe({ pool_name: 'replica-1', op: 'INSERT' }, 0.02);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('op_seconds_bucket{le="0.01",pool_name="main",op="SELECT"} 5');
  });

  test('zero() shows a label set before anything is observed; reset() zeroes and bound observers go on counting', async () => {
    const { ours, theirs, bound, reference } = pair();
    bound.zero({ pool_name: 'main', op: 'DELETE' });
    reference.zero({ pool_name: 'main', op: 'DELETE' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const observer = bound.labels({ pool_name: 'main', op: 'DELETE' });
    observer.observe(0.5);
    ours.resetMetrics();
    observer.observe(0.002);
    expect(await ours.metrics()).toContain('op_seconds_count{pool_name="main",op="DELETE"} 1');
    expect(await ours.metrics()).toContain('op_seconds_sum{pool_name="main",op="DELETE"} 0.002');
  });

  test('a label it was not declared with is refused; a value that is not a number is not counted', async () => {
    const { ours, bound } = pair();
    expect(() => bound.labels({ pool_name: 'main', op: 'SELECT', extra: 'x' } as never)).toThrow('unknown label extra');
    const observer = bound.labels({ pool_name: 'main', op: 'SELECT' });
    observer.observe(Number.NaN);
    observer.observe(Number.POSITIVE_INFINITY);
    expect(await ours.metrics()).toContain('op_seconds_count{pool_name="main",op="SELECT"} 0');
  });
});
