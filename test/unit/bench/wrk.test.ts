import { parseWrk } from '../../../bench/lib/wrk';

// npm run bench reads wrk's report: this is one, as wrk 4.1 (Debian) prints it with --latency.
const REPORT = `Running 1s test @ http://127.0.0.1:39999
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.78ms    4.68ms  57.90ms   93.83%
    Req/Sec     5.16k     3.85k   11.01k    61.90%
  Latency Distribution
     50%  192.00us
     75%    1.52ms
     90%    4.33ms
     99%   26.89ms
  10810 requests in 1.10s, 1.31MB read
  Non-2xx or 3xx responses: 5475
Requests/sec:   9823.08
Transfer/sec:      1.19MB
`;

describe('parseWrk', () => {
  test('reads req/s, p50 and p99 (in ms, whatever unit wrk chose), requests, and non-2xx answers as errors', () => {
    expect(parseWrk(REPORT)).toEqual({ rps: 9823.08, p50: 0.19, p99: 26.89, requests: 10810, errors: 5475 });
  });

  test('socket errors count as errors too; a report without them or without non-2xx has none', () => {
    const withSockets = REPORT.replace('Requests/sec', '  Socket errors: connect 1, read 2, write 0, timeout 3\nRequests/sec');
    expect(parseWrk(withSockets).errors).toBe(5475 + 6);
    expect(parseWrk(REPORT.replace(/^\s+Non-2xx.*$/m, '')).errors).toBe(0);
  });
});
