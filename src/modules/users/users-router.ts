import { Router } from 'express';
import { requireRole } from '../../http/authenticate';
import { IdParamsSchema } from '../../http/common-schemas';
import { forbidden, notFound } from '../../http/errors';
import { cursorScope, pageStart, paginated } from '../../http/list-paging';
import { actorOf } from '../../http/request-context';
import { recordHistoryHandler } from '../history';
import { answerOnce } from '../idempotency';
import { findUserById, listUsers, USER_SORT_KEY } from './users-repository';
import { CreateUserBodySchema, ListUsersQuerySchema, UpdateUserBodySchema } from './users-schemas';
import { changeUser, createUser, prepareNewUser, removeUser } from './users-service';

// The users list has one sort and no filter: one cursor scope.
const USERS_SCOPE = cursorScope(['users']);

/** docs/api.md §4: admins manage users; a user may only read itself. */
export function usersRouter(): Router {
  const router = Router();
  const adminOnly = requireRole('admin');

  router.get('/', adminOnly, async (req, res) => {
    const query = ListUsersQuerySchema.parse(req.query);
    const page = await listUsers(query, pageStart(query, USERS_SCOPE, USER_SORT_KEY.keyType));
    res.json(paginated(page.rows, page, query, USERS_SCOPE));
  });

  // Idempotency-Key: a retry gets the first answer again instead of a second user (or a 409).
  router.post('/', adminOnly, async (req, res) => {
    // The password is hashed before any connection is taken.
    const newUser = await prepareNewUser(CreateUserBodySchema.parse(req.body));
    await answerOnce(req, res, async (db) => {
      const user = await createUser(newUser, db);
      return { status: 201, headers: { Location: `/api/users/${user.id}` }, body: user };
    });
  });

  router.get('/:id', async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    if (req.user?.role !== 'admin' && req.user?.id !== id) throw forbidden();
    const user = await findUserById(id);
    if (!user) throw notFound();
    res.json(user);
  });

  // Who changed the user, when and what (docs/api.md §8): role, active flag, name, a new password.
  router.get('/:id/history', adminOnly, recordHistoryHandler('user', async (id) => (await findUserById(id)) !== null));

  router.patch('/:id', adminOnly, async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    res.json(await changeUser(id, UpdateUserBodySchema.parse(req.body), actorOf(req)));
  });

  router.delete('/:id', adminOnly, async (req, res) => {
    const { id } = IdParamsSchema.parse(req.params);
    await removeUser(id, actorOf(req));
    res.status(204).end();
  });

  return router;
}
