import { getConfig } from '../../config/config';
import { forbidden, notFound, validationError } from '../../http/errors';
import { detail } from '../../http/messages';
import type { CurrentUser } from '../../http/request-context';
import { findUserById } from '../users';
import { forgetKey } from './keys-auth';
import { makeKey } from './keys-format';
import { findKey, insertKey, revokeKey } from './keys-repository';
import type { ApiKey, CreateKeyBody } from './keys-schemas';

const DAY_MS = 86_400_000;

/**
 * Makes a key for the caller, or (an admin) for a service account; the key is in the answer only.
 * Its scopes are kept as asked: each request intersects them with the owner's rights then.
 */
export async function createKey(caller: CurrentUser, body: CreateKeyBody): Promise<ApiKey & { key: string }> {
  const expiresAt = new Date(body.expires_at);
  const maxDays = getConfig().auth.apiKeyMaxTtlDays;
  const now = Date.now();
  if (!(expiresAt.getTime() > now && expiresAt.getTime() <= now + maxDays * DAY_MS)) {
    throw validationError([{ path: 'expires_at', message: detail('EXPIRES_IN_FUTURE', { days: maxDays }) }]);
  }
  const ownerId = body.owner_id ?? caller.id;
  if (ownerId !== caller.id) {
    if (caller.role !== 'admin') throw forbidden();
    const owner = await findUserById(ownerId);
    if (!owner || owner.kind !== 'service' || !owner.is_active) throw validationError([{ path: 'owner_id', message: detail('OWNER_IS_SERVICE') }]);
  }
  const made = makeKey();
  const key = await insertKey({ publicId: made.publicId, secretHash: made.secretHash, name: body.name, ownerId, scopes: body.scopes, createdBy: caller.id, expiresAt });
  return { ...key, key: made.key };
}

/** A key the caller may see or revoke: its own; an admin, any. Others' keys are 404 (not 403: their ids are not told). */
async function visibleKey(caller: CurrentUser, publicId: string): Promise<ApiKey> {
  const key = await findKey(publicId);
  if (!key || (key.owner_id !== caller.id && caller.role !== 'admin')) throw notFound();
  return key;
}

/** Revokes at once on this instance, within AUTH_CACHE_TTL_MS on the others. */
export async function revokeVisibleKey(caller: CurrentUser, publicId: string): Promise<ApiKey> {
  await visibleKey(caller, publicId);
  const key = await revokeKey(publicId);
  forgetKey(publicId);
  if (!key) throw notFound();
  return key;
}
