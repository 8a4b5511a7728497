import { changeAs, type TransactionActor } from '../../db';
import { notFound, preconditionFailed } from '../../http/errors';
import { deleteCustomer, findCustomerById, updateCustomer, type Customer } from './customers-repository';
import type { IfMatch, UpdateCustomerBody } from './customers-schemas';

/** Updates with optimistic concurrency: a stale If-Match gets 412 and changes nothing. */
export async function applyUpdate(id: number, changes: UpdateCustomerBody, ifMatch: IfMatch, actor: TransactionActor): Promise<Customer> {
  const updated = await changeAs(actor, (tx) => updateCustomer(id, changes, ifMatch === '*' ? undefined : ifMatch, tx));
  if (updated) return updated;
  if (ifMatch !== undefined && ifMatch !== '*' && (await findCustomerById(id))) throw preconditionFailed();
  throw notFound();
}

export async function removeCustomer(id: number, actor: TransactionActor): Promise<void> {
  if (!(await changeAs(actor, (tx) => deleteCustomer(id, tx)))) throw notFound();
}
