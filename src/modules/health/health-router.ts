import { Router, type Request, type RequestHandler } from 'express';
import { getConfig } from '../../config/config';
import { currentTelemetry, poolStats, primaryHostStats, replicaStats, type PoolStats } from '../../db';
import { toAppError } from '../../http/error-handler';
import { isDraining } from '../../http/lifecycle';
import { settleWithin } from '../../lib/settle-within';
import { translate, type Locale } from '../../http/messages';
import { localeOf } from '../../http/request-context';
import { pingDatabase, selectTestRow } from './health-repository';

const READY_TIMEOUT_MS = 1000;
const WARNING_USAGE_PERCENT = 60;

function poolWarnings(stats: PoolStats, locale: Locale): string[] {
  const warnings: string[] = [];
  if (stats.usage_percent >= WARNING_USAGE_PERCENT) warnings.push(translate('WARN_HIGH_USAGE', locale, { usage: stats.usage_percent }));
  if (stats.waiting > 0) warnings.push(translate('WARN_WAITING', locale, { waiting: stats.waiting }));
  if (stats.available === 0 && stats.total >= stats.max_connections) warnings.push(translate('WARN_NONE_AVAILABLE', locale));
  return warnings;
}

function telemetryFields() {
  const telemetry = currentTelemetry();
  if (!telemetry) return {};
  const c = telemetry.counters;
  return {
    counters: {
      acquisitions: c.acquisitions,
      acquire_timeouts: c.acquireTimeouts,
      queue_full_rejections: c.queueFullRejections,
      connection_errors: c.connectionErrors,
      connections_created: c.connectionsCreated,
      connections_destroyed: c.connectionsDestroyed,
      leaks_detected: c.leaksDetected,
      host_switches: c.hostSwitches,
    },
    acquire_time_ms: telemetry.acquirePercentiles(),
  };
}

/**
 * Resolves when a statement comes back with its rows after `since` (performance.now()), polled every
 * 10 ms; `stop` (the race it is in has been decided) ends the polling.
 */
async function statementAnsweredAfter(since: number, stop: AbortSignal): Promise<void> {
  const telemetry = currentTelemetry();
  while (!stop.aborted && (telemetry?.lastAnswerAt ?? 0) <= since) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Whether the database answers, asked so that a burst cannot make a healthy database look down.
 * - Every client is busy and the pool is full: evidently connected (a busy pool is not a down one).
 * - Otherwise one SELECT 1 within READY_TIMEOUT_MS; while it waits (for a connection being opened, or
 *   behind other callers), any statement of theirs that comes back with its rows answers for it.
 */
async function probeDatabase(stats: PoolStats): ReturnType<typeof settleWithin<void>> {
  if (stats.available === 0 && stats.total >= stats.max_connections) return { status: 'fulfilled', value: undefined };
  const watch = new AbortController();
  try {
    return await settleWithin(Promise.race([pingDatabase(), statementAnsweredAfter(performance.now(), watch.signal)]), READY_TIMEOUT_MS);
  } finally {
    watch.abort();
  }
}

const locale = (req: Request): Locale => localeOf(req, getConfig().http.defaultLocale);

/**
 * The three health routes of the original design plus readiness (docs/api.md §2). The db routes take
 * `requireToken`: an access token's signature (no database), or an API key with health:read.
 */
export function healthRouter(requireToken: RequestHandler): Router {
  const router = Router();

  router.get('/', (req, res) => {
    res.json({ status: 'ok', message: translate('API_RUNNING', locale(req)) });
  });

  router.get('/ready', async (_req, res) => {
    const ready = !isDraining() && (await probeDatabase(poolStats())).status === 'fulfilled';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
  });

  router.get('/db', requireToken, async (req, res) => {
    const probe = await probeDatabase(poolStats());
    const stats = poolStats();
    const lang = locale(req);
    const warnings = poolWarnings(stats, lang);
    const replicas = replicaStats();
    for (const r of replicas) if (r.state !== 'healthy') warnings.push(translate('WARN_REPLICA', lang, { pool: r.pool_name, state: r.state }));
    const body = {
      status: warnings.length > 0 ? 'warning' : 'healthy',
      pool_stats: stats,
      // Every pool: the primary's (the numbers above) and each read replica's, with its state and lag.
      pools: [{ pool_name: getConfig().db.applicationName, role: 'primary', ...stats, ...primaryHostStats() }, ...replicas],
      warnings,
      recommendations: {
        optimal_range: translate('OPTIMAL_RANGE', lang),
        current_config: `min=${stats.min_connections}, max=${stats.max_connections}`,
      },
      ...telemetryFields(),
    };
    if (probe.status !== 'fulfilled') {
      const error = probe.status === 'timeout' ? 'DATABASE_UNAVAILABLE' : toAppError(probe.reason).code;
      res.status(503).json({ ...body, status: 'error', error });
      return;
    }
    res.json(body);
  });

  router.get('/db/test', requireToken, async (req, res) => {
    const lang = locale(req);
    try {
      const row = await selectTestRow();
      res.json({
        status: 'ok',
        message: translate('DB_CONNECTION_OK', lang),
        test_result: { test: row.test, current_time: row.current_time.toISOString() },
      });
    } catch (err) {
      res.status(503).json({ status: 'error', message: translate('DB_CONNECTION_FAILED', lang), error: toAppError(err).code });
    }
  });

  return router;
}
