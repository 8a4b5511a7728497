import { Router, type RequestHandler } from 'express';
import { requireRole } from '../../http/authenticate';
import { IdParamsSchema } from '../../http/common-schemas';
import { notFound } from '../../http/errors';
import { cursorScope, listCursorScope, pageStart, paginated } from '../../http/list-paging';
import { HISTORY_SORT, RECORD_HISTORY_SORT, listHistory, listRecordHistory } from './history-repository';
import { HISTORY_LIST_FILTERS, ListHistoryQuerySchema, RecordHistoryQuerySchema, type HistoryEntity } from './history-schemas';

/**
 * GET …/:id/history for a record's own router: its changes, newest first. A record that exists: any
 * caller the router lets in. A deleted one: admins only (its last row is in the history), else 404.
 */
export function recordHistoryHandler(entity: HistoryEntity, exists: (id: number) => Promise<boolean>): RequestHandler {
  return async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    const query = RecordHistoryQuerySchema.parse(req.query);
    const admin = req.user?.role === 'admin';
    if (!admin && !(await exists(id))) throw notFound();
    const scope = cursorScope(['history', entity, id]);
    const page = await listRecordHistory(entity, id, query, pageStart(query, scope, RECORD_HISTORY_SORT.keyType));
    // An admin asking for a record that neither exists nor ever had a change.
    if (admin && page.rows.length === 0 && query.cursor === undefined && !(await exists(id))) throw notFound();
    res.json(paginated(page.rows, page, query, scope));
  };
}

/** docs/api.md §8: changes across records (admin). */
export function historyRouter(): Router {
  const router = Router();
  router.get('/', requireRole('admin'), async (req, res) => {
    const query = ListHistoryQuerySchema.parse(req.query);
    const scope = listCursorScope('history', HISTORY_LIST_FILTERS, query);
    const page = await listHistory(query, pageStart(query, scope, HISTORY_SORT.keyType));
    res.json(paginated(page.rows, page, query, scope));
  });
  return router;
}
