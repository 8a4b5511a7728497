import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST' | 'PATCH';
  path: string | (() => string);
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
}

/** One autocannon run; errors count non-2xx answers and socket errors alike. */
export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pathFor = typeof o.path === 'function' ? o.path : () => o.path as string;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.seconds,
        headers: { 'content-type': 'application/json', ...o.headers },
        requests: [{ method: o.method ?? 'GET', body: o.body, setupRequest: (r) => ({ ...r, path: pathFor() }) }],
      },
      (err, result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        resolve({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          errors: result.non2xx + result.errors,
        });
      },
    );
  });
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
