import { BENCH_ADMIN, benchApiEnv, login, startApi } from '../lib/api-process';
import { runLoad } from '../lib/load';
async function main() {
  const url = process.argv[2]!;
  const paths = process.argv.slice(3);
  const api = await startApi(benchApiEnv(url), { discardLogs: true });
  const headers = { authorization: `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}` };
  for (const p of paths) {
    await runLoad({ url: api.base, path: () => p, headers, connections: 16, seconds: 1 });
    const r = await runLoad({ url: api.base, path: () => p, headers, connections: 16, seconds: 4 });
    console.log(`${p}: ${Math.round(r.rps)} req/s p99 ${r.p99} errors ${r.errors}`);
  }
  await api.stop();
}
void main();
