import { Router } from 'express';
import { refuseKey } from '../../http/authenticate';
import { forbidden, notFound } from '../../http/errors';
import { findUserById } from '../users';
import { KeyIdParamsSchema, CreateKeyBodySchema, ListKeysQuerySchema } from './keys-schemas';
import { listKeys } from './keys-repository';
import { createKey, revokeVisibleKey } from './keys-service';

/** docs/api.md §9: a person manages its own keys; an admin, a service account's too. Never with a key. */
export function keysRouter(): Router {
  const router = Router();
  router.use(refuseKey);

  router.post('/', async (req, res) => {
    const created = await createKey(req.user!, CreateKeyBodySchema.parse(req.body));
    res.status(201).setHeader('Cache-Control', 'no-store');
    res.json(created);
  });

  router.get('/', async (req, res) => {
    const { owner } = ListKeysQuerySchema.parse(req.query);
    if (owner !== undefined && owner !== req.user!.id) {
      if (req.user!.role !== 'admin') throw forbidden();
      if ((await findUserById(owner)) === null) throw notFound();
    }
    res.json({ data: await listKeys(owner ?? req.user!.id) });
  });

  router.delete('/:id', async (req, res) => {
    const { id } = KeyIdParamsSchema.parse(req.params);
    await revokeVisibleKey(req.user!, id);
    res.status(204).end();
  });

  return router;
}
