import { executeWrite, queryPage, sortKey, type Page, type PageQuery, type PageSort, type PageStart } from '../../db';
import type { Paging } from '../../http/list-paging';
import { HISTORY_LIST_FILTERS, type HistoryEntity, type HistoryListFilters, type ListHistoryQuery } from './history-schemas';

/** One change (migration 007), as the API answers it. */
export interface HistoryEntry {
  id: number;
  entity: HistoryEntity;
  entity_id: number;
  operation: 'insert' | 'update' | 'delete';
  changed_at: Date;
  actor: { id: number; name: string | null } | null;
  request_id: string | null;
  changes: Record<string, { old?: unknown; new?: unknown; changed?: true }> | null;
  last_row: Record<string, unknown> | null;
}

interface HistoryRow {
  id: string;
  entity: HistoryEntity;
  entity_id: string;
  operation: HistoryEntry['operation'];
  changed_at: Date;
  actor_id: string | null;
  actor_name: string | null;
  request_id: string | null;
  changes: HistoryEntry['changes'];
  row_before: Record<string, unknown> | null;
}

// The actor's name as it is now (one primary-key lookup per entry of the page).
const HISTORY_COLUMNS = 'id, entity, entity_id, operation, changed_at, actor_id, (SELECT u.name FROM users u WHERE u.id = history.actor_id) AS actor_name, request_id, changes, row_before';

// Times inside the recorded rows are PostgreSQL's JSON (2026-12-01T09:15:00.123456+00:00); the API's are ISO UTC with milliseconds.
const TIME_FIELDS = new Set(['created_at', 'updated_at']);
const isoTime = (value: unknown): unknown => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value);

function withIsoTimes<T>(fields: Record<string, T> | null, convert: (key: string, value: T) => T): Record<string, T> | null {
  if (fields === null) return null;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, TIME_FIELDS.has(key) ? convert(key, value) : value]));
}

function toHistoryEntry(row: HistoryRow): HistoryEntry {
  return {
    id: Number(row.id),
    entity: row.entity,
    entity_id: Number(row.entity_id),
    operation: row.operation,
    changed_at: row.changed_at,
    actor: row.actor_id === null ? null : { id: Number(row.actor_id), name: row.actor_name },
    request_id: row.request_id,
    changes: withIsoTimes(row.changes, (_k, change) => ({ ...change, old: isoTime(change.old), new: isoTime(change.new) })),
    last_row: withIsoTimes(row.row_before, (_k, value) => isoTime(value)),
  };
}

/** One record's history is walked by id (the order its changes were made in), newest first. */
export const RECORD_HISTORY_SORT: PageSort = { ...sortKey('id', 'bigint'), descending: true };
/** Across records, by the moment of the change, newest first. */
export const HISTORY_SORT: PageSort = { ...sortKey('changed_at', 'timestamptz'), descending: true };

async function historyPage(q: Omit<PageQuery, 'table' | 'columns' | 'filter'>): Promise<Page<HistoryEntry>> {
  // Each filter has an index that leads to the sort (migration 007), so the walk never passes over
  // rows that do not match: the cost of a page does not grow with the history.
  const page = await queryPage<HistoryRow>({ ...q, table: 'history', columns: HISTORY_COLUMNS, filter: 'ordered' });
  return { ...page, rows: page.rows.map(toHistoryEntry) };
}

/**
 * One record's changes, newest first, through (entity, entity_id, id): a deleted record's too. Read on
 * the primary, so that a caller sees its own change at once.
 */
export function listRecordHistory(entity: HistoryEntity, entityId: number, query: Paging, start: PageStart): Promise<Page<HistoryEntry>> {
  return historyPage({
    name: 'history_record',
    where: ['entity = $1', 'entity_id = $2::bigint'],
    filterParams: [entity, String(entityId)],
    sort: RECORD_HISTORY_SORT,
    ...start,
    limit: query.limit,
    count: query.count,
  });
}

/** Each filter's condition (its value bound as text and cast: count_estimate binds text) and its letter in the statement's name. */
const HISTORY_FILTERS: { [K in keyof HistoryListFilters]: { letter: string; sql: (param: string) => string } } = {
  entity: { letter: 'e', sql: (p) => `entity = ${p}` },
  actor: { letter: 'a', sql: (p) => `actor_id = ${p}::bigint` },
  since: { letter: 's', sql: (p) => `changed_at >= ${p}::timestamptz` },
  until: { letter: 'u', sql: (p) => `changed_at < ${p}::timestamptz` },
};

/** Changes across records, newest first: by entity through (entity, changed_at, id), by actor through (actor_id, changed_at, id). */
export function listHistory(query: ListHistoryQuery, start: PageStart): Promise<Page<HistoryEntry>> {
  const where: string[] = [];
  const filterParams: string[] = [];
  let shape = '';
  for (const name of Object.keys(HISTORY_LIST_FILTERS) as (keyof HistoryListFilters)[]) {
    const value = query[name];
    if (value === undefined) continue;
    filterParams.push(String(value));
    where.push(HISTORY_FILTERS[name].sql(`$${filterParams.length}`));
    shape += HISTORY_FILTERS[name].letter;
  }
  return historyPage({ name: `history_list_${shape}`, where, filterParams, sort: HISTORY_SORT, ...start, limit: query.limit, count: query.count });
}

/**
 * Deletes up to `batch` entries older than `days`, oldest first, through the changed_at index: a short
 * statement that holds no lock anyone waits for (nobody updates history). The count deleted.
 */
export async function pruneHistory(days: number, batch: number): Promise<number> {
  const { rowCount } = await executeWrite(
    {
      name: 'history_prune',
      text: `DELETE FROM history WHERE id IN (
               SELECT id FROM history WHERE changed_at < now() - make_interval(days => $1) ORDER BY changed_at LIMIT $2)`,
    },
    [days, batch],
  );
  return rowCount;
}
