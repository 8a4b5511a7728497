import { Router, type Response } from 'express';
import { requireRole } from '../../http/authenticate';
import { IdParamsSchema } from '../../http/common-schemas';
import { notFound, validationError } from '../../http/errors';
import { detail } from '../../http/messages';
import { listCursorScope, pageStart, paginated } from '../../http/list-paging';
import { actorOf } from '../../http/request-context';
import { recordHistoryHandler } from '../history';
import { answerOnce } from '../idempotency';
import { CUSTOMER_SORT_KEYS, findCustomerById, insertCustomer, listCustomers, type Customer } from './customers-repository';
import {
  CUSTOMER_LIST_FILTERS,
  CreateCustomerBodySchema,
  DEFAULT_CUSTOMER_STATUS,
  IfMatchSchema,
  ListCustomersQuerySchema,
  UpdateCustomerBodySchema,
  type IfMatch,
} from './customers-schemas';
import { exportCustomers } from './customers-export';
import { IMPORT_ROUTE, importCustomers } from './customers-import';
import { applyUpdate, removeCustomer } from './customers-service';

/** A customer's entity tag is its version (If-Match compares against it). */
const etagOf = (customer: Customer): string => `"${customer.version}"`;

function sendCustomer(res: Response, customer: Customer, status = 200): void {
  res.status(status).setHeader('ETag', etagOf(customer));
  res.json(customer);
}

async function getCustomer(rawId: string | undefined): Promise<Customer> {
  const { id } = IdParamsSchema.parse({ id: rawId });
  const customer = await findCustomerById(id);
  if (!customer) throw notFound();
  return customer;
}

function parseIfMatch(header: string | undefined): IfMatch {
  const parsed = IfMatchSchema.safeParse(header);
  if (!parsed.success) {
    throw validationError([{ path: 'If-Match', message: detail('ENTITY_TAG') }], 'VALIDATION_HEADER');
  }
  return parsed.data;
}

/** docs/api.md §5: any authenticated user; delete, import and a deleted customer's history are admin-only. */
export function customersRouter(): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = ListCustomersQuerySchema.parse(req.query);
    // A cursor is good for the same filters and sort only.
    const scope = listCursorScope('customers', CUSTOMER_LIST_FILTERS, query);
    const page = await listCustomers(query, pageStart(query, scope, CUSTOMER_SORT_KEYS[query.sort].keyType));
    res.json(paginated(page.rows, page, query, scope));
  });

  // Idempotency-Key: a retry gets the first answer again instead of a second customer.
  router.post('/', async (req, res) => {
    const body = CreateCustomerBodySchema.parse(req.body);
    await answerOnce(req, res, async (db) => {
      const customer = await insertCustomer(body, req.user?.id ?? null, db);
      return { status: 201, headers: { Location: `/api/customers/${customer.id}`, ETag: etagOf(customer) }, body: customer };
    });
  });

  // Customers from a CSV or NDJSON body, streamed into COPY (docs/api.md §5).
  router.post(IMPORT_ROUTE.path, requireRole('admin'), importCustomers);

  // Every match, streamed (docs/api.md §5); before /:id, which would take "export" for an id.
  router.get('/export', exportCustomers);

  router.get('/:id', async (req, res) => {
    sendCustomer(res, await getCustomer(req.params.id));
  });

  // Who changed it, when and what (docs/api.md §8); a deleted customer's: admins only.
  router.get('/:id/history', recordHistoryHandler('customer', async (id) => (await findCustomerById(id)) !== null));

  router.patch('/:id', async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    const ifMatch = parseIfMatch(req.get('If-Match'));
    sendCustomer(res, await applyUpdate(id, UpdateCustomerBodySchema.parse(req.body), ifMatch, actorOf(req)));
  });

  router.put('/:id', async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    const ifMatch = parseIfMatch(req.get('If-Match'));
    const body = CreateCustomerBodySchema.parse(req.body);
    const whole = { email: null, phone: null, company: null, city: null, notes: null, status: DEFAULT_CUSTOMER_STATUS, ...body };
    sendCustomer(res, await applyUpdate(id, whole, ifMatch, actorOf(req)));
  });

  router.delete('/:id', requireRole('admin'), async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    await removeCustomer(id, actorOf(req));
    res.status(204).end();
  });

  return router;
}
