import { executeWrite, queryPage, sortKey, type Page, type PageQuery, type PageSort, type PageStart } from '../../db';
import type { Paging } from '../../http/list-paging';
import { HISTORY_LIST_FILTERS, type HistoryEntity, type HistoryEntry, type HistoryListFilters, type ListHistoryQuery } from './history-schemas';

/** One change (migration 007), as the API answers it (HistoryEntrySchema). */
export type { HistoryEntry };

interface HistoryRow {
  id: string;
  entity: HistoryEntity;
  entity_id: string;
  operation: HistoryEntry['operation'];
  changed_at: Date;
  actor_id: string | null;
  actor_name: string | null;
  actor_key_id: string | null;
  actor_key_name: string | null;
  request_id: string | null;
  changes: HistoryEntry['changes'];
  row_data: Record<string, unknown> | null;
}

// The actor's name as it is now, and its key's (one primary-key lookup each per entry of the page).
const HISTORY_COLUMNS = `id, entity, entity_id, operation, changed_at, actor_id, (SELECT u.name FROM users u WHERE u.id = history.actor_id) AS actor_name,
  actor_key_id, (SELECT k.name FROM api_keys k WHERE k.public_id = history.actor_key_id) AS actor_key_name, request_id, changes, row_data`;

// Times inside the recorded rows are PostgreSQL's JSON (2026-12-01T09:15:00.123456+00:00); the API's are ISO UTC with milliseconds.
const TIME_FIELDS = new Set(['created_at', 'updated_at']);
const isoTime = (value: unknown): unknown => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value);

function withIsoTimes<T>(fields: Record<string, T> | null, convert: (key: string, value: T) => T): Record<string, T> | null {
  if (fields === null) return null;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, TIME_FIELDS.has(key) ? convert(key, value) : value]));
}

/** An insert is stored as the row it made; the API shows it as changes from nothing. */
const fromNothing = (fields: Record<string, unknown>): HistoryEntry['changes'] => Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, { old: null, new: value }]));

/** A person, or a key acting for its owner (actor_id is then the owner's). */
function actorOf(row: HistoryRow): HistoryEntry['actor'] {
  const owner = row.actor_id === null ? null : { id: Number(row.actor_id), name: row.actor_name };
  if (row.actor_key_id !== null) return { type: 'api_key', id: row.actor_key_id, name: row.actor_key_name, owner };
  return owner === null ? null : { type: 'user', ...owner };
}

function toHistoryEntry(row: HistoryRow): HistoryEntry {
  const changes = row.operation === 'insert' && row.row_data !== null ? fromNothing(row.row_data) : row.changes;
  return {
    id: Number(row.id),
    entity: row.entity,
    entity_id: Number(row.entity_id),
    operation: row.operation,
    changed_at: row.changed_at,
    actor: actorOf(row),
    request_id: row.request_id,
    changes: withIsoTimes(changes, (_k, change) => ({ ...change, old: isoTime(change.old), new: isoTime(change.new) })),
    last_row: row.operation === 'delete' ? withIsoTimes(row.row_data, (_k, value) => isoTime(value)) : null,
  };
}

/** One record's history is walked by id (the order its changes were made in), newest first. */
export const RECORD_HISTORY_SORT: PageSort = { ...sortKey('id', 'bigint'), descending: true };
/** Across records, by the moment of the change, newest first. */
export const HISTORY_SORT: PageSort = { ...sortKey('changed_at', 'timestamptz'), descending: true };

/** The page query of one record's history (exported for the EXPLAIN tests). */
export function recordHistoryQuery(entity: HistoryEntity, entityId: number, query: Paging, start: PageStart): PageQuery {
  return pageOfHistory({
    name: 'history_record',
    where: ['entity = $1', 'entity_id = $2::bigint'],
    filterParams: [entity, String(entityId)],
    sort: RECORD_HISTORY_SORT,
    ...start,
    limit: query.limit,
    count: query.count,
  });
}

/**
 * Each filter's condition and its letter in the statement's name. A value is bound as text and cast
 * (count_estimate binds text), except the entity: a literal from the allow-list, so that a generic plan
 * can use the users' partial index (migration 007).
 */
const HISTORY_FILTERS: { [K in keyof HistoryListFilters]: { letter: (value: HistoryListFilters[K]) => string; sql: (value: HistoryListFilters[K], bind: (v: string) => string) => string } } = {
  entity: { letter: (entity) => (entity === 'user' ? 'eu' : 'ec'), sql: (entity) => `entity = '${entity === 'user' ? 'user' : 'customer'}'` },
  actor: { letter: () => 'a', sql: (actor, bind) => `actor_id = ${bind(String(actor))}::bigint` },
  since: { letter: () => 's', sql: (since, bind) => `changed_at >= ${bind(since)}::timestamptz` },
  until: { letter: () => 'u', sql: (until, bind) => `changed_at < ${bind(until)}::timestamptz` },
};

/** The page query across records (exported for the EXPLAIN tests): through (changed_at, id), the users' partial index, or (actor_id, changed_at, id). */
export function historyQuery(query: ListHistoryQuery, start: PageStart): PageQuery {
  const where: string[] = [];
  const filterParams: string[] = [];
  const bind = (value: string): string => `$${filterParams.push(value)}`;
  let shape = '';
  for (const name of Object.keys(HISTORY_LIST_FILTERS) as (keyof HistoryListFilters)[]) {
    const value = query[name];
    if (value === undefined) continue;
    const filter = HISTORY_FILTERS[name] as { letter: (v: typeof value) => string; sql: (v: typeof value, b: typeof bind) => string };
    where.push(filter.sql(value, bind));
    shape += filter.letter(value);
  }
  return pageOfHistory({ name: `history_list_${shape}`, where, filterParams, sort: HISTORY_SORT, ...start, limit: query.limit, count: query.count });
}

// Each filter has an index that leads to the sort (migration 007), so the walk never passes over many
// rows that do not match: the cost of a page does not grow with the history.
const pageOfHistory = (q: Omit<PageQuery, 'table' | 'columns' | 'filter'>): PageQuery => ({ ...q, table: 'history', columns: HISTORY_COLUMNS, filter: 'ordered' });

const historyPage = (q: PageQuery): Promise<Page<HistoryEntry>> => queryPage<HistoryRow, HistoryEntry>(q, toHistoryEntry);

/**
 * One record's changes, newest first: a deleted record's too. Read on the primary, so that a caller
 * sees its own change at once.
 */
export const listRecordHistory = (entity: HistoryEntity, entityId: number, query: Paging, start: PageStart): Promise<Page<HistoryEntry>> =>
  historyPage(recordHistoryQuery(entity, entityId, query, start));

/** Changes across records, newest first. */
export const listHistory = (query: ListHistoryQuery, start: PageStart): Promise<Page<HistoryEntry>> => historyPage(historyQuery(query, start));

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
