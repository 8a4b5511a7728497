import { getConfig } from '../../config/config';
import { getLogger } from '../../logging/logger';
import { readDashboard, type Dashboard } from './dashboard-repository';

/** The dashboard's numbers, and when their computation started (they are at least that new). */
interface DashboardSnapshot {
  data: Dashboard;
  generatedAt: number;
}

interface Computation {
  startedAt: number;
  promise: Promise<DashboardSnapshot>;
}

let latest: DashboardSnapshot | undefined;
let running: Computation | undefined;
let queued: Promise<DashboardSnapshot> | undefined;

function compute(): Promise<DashboardSnapshot> {
  const startedAt = Date.now();
  const promise = readDashboard().then((data) => {
    const snapshot = { data, generatedAt: startedAt };
    if (!latest || latest.generatedAt < startedAt) latest = snapshot;
    return snapshot;
  });
  running = { startedAt, promise };
  const clear = () => {
    if (running?.promise === promise) running = undefined;
  };
  promise.then(clear, clear);
  return promise;
}

/** The next computation, started once the running one has ended: everyone who asks meanwhile shares it. */
function computeNext(current: Computation): Promise<DashboardSnapshot> {
  queued ??= current.promise
    .catch(() => undefined)
    .then(() => {
      queued = undefined;
      return compute();
    });
  return queued;
}

/**
 * docs/api.md §6: numbers at most DASHBOARD_MAX_AGE_S old, never computed twice at once in this process.
 * A request is answered from the last computation while it is fresh enough, else it joins the running
 * one when that started recently enough, else the next one. Past half the age a fresh copy is started
 * in the background, so that under steady traffic nobody waits for it.
 */
export async function getDashboard(): Promise<DashboardSnapshot> {
  const maxAgeMs = getConfig().dashboardMaxAgeSeconds * 1000;
  const now = Date.now();
  const oldestAccepted = now - maxAgeMs;
  if (latest && latest.generatedAt >= oldestAccepted && maxAgeMs > 0) {
    if (!running && now - latest.generatedAt > maxAgeMs / 2) {
      compute().catch((err: unknown) => getLogger().warn({ err }, 'dashboard refresh failed; the last numbers stay until they expire'));
    }
    return latest;
  }
  if (running && running.startedAt >= oldestAccepted && maxAgeMs > 0) return running.promise;
  if (queued) return queued;
  return running ? computeNext(running) : compute();
}
