import { executeQuery, executeQueryOne, executeWrite, type DbClient } from '../../db';
import type { CurrentUser } from '../../http/request-context';
import type { Scope } from '../../http/scopes';
import { ApiKeySchema, type ApiKey } from './keys-schemas';

/** The columns of a key as answered: ApiKeySchema's fields, in its order (id is the public id). */
const KEY_COLUMNS = Object.keys(ApiKeySchema.shape)
  .map((c) => (c === 'id' ? 'public_id AS id' : c))
  .join(', ');

type KeyRow = Omit<ApiKey, 'owner_id' | 'created_by'> & { owner_id: string; created_by: string | null };

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    owner_id: Number(row.owner_id),
    scopes: row.scopes,
    created_by: row.created_by === null ? null : Number(row.created_by),
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    last_used_from: row.last_used_from,
    revoked_at: row.revoked_at,
  };
}

export interface NewKeyRow {
  publicId: string;
  secretHash: Buffer;
  name: string;
  ownerId: number;
  scopes: Scope[];
  createdBy: number;
  expiresAt: Date;
}

export async function insertKey(key: NewKeyRow, db?: DbClient): Promise<ApiKey> {
  const { rows } = await executeWrite<KeyRow>(
    {
      name: 'keys_insert',
      text: `INSERT INTO api_keys (public_id, secret_hash, name, owner_id, scopes, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${KEY_COLUMNS}`,
    },
    [key.publicId, key.secretHash, key.name, key.ownerId, key.scopes, key.createdBy, key.expiresAt],
    db,
  );
  return toKey(rows[0]!);
}

/** An owner's keys, newest first, revoked ones included (a few per owner: no paging). */
export async function listKeys(ownerId: number): Promise<ApiKey[]> {
  const rows = await executeQuery<KeyRow>(
    { name: 'keys_list', text: `SELECT ${KEY_COLUMNS} FROM api_keys WHERE owner_id = $1 ORDER BY created_at DESC, public_id` },
    [ownerId],
  );
  return rows.map(toKey);
}

export async function findKey(publicId: string): Promise<ApiKey | null> {
  const row = await executeQueryOne<KeyRow>({ name: 'keys_find', text: `SELECT ${KEY_COLUMNS} FROM api_keys WHERE public_id = $1` }, [publicId]);
  return row ? toKey(row) : null;
}

/** Revokes a live key; the key as it is now, or null when there is no such key. */
export async function revokeKey(publicId: string, db?: DbClient): Promise<ApiKey | null> {
  const { rows } = await executeWrite<KeyRow>(
    {
      name: 'keys_revoke',
      text: `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE public_id = $1 RETURNING ${KEY_COLUMNS}`,
    },
    [publicId],
    db,
  );
  return rows[0] ? toKey(rows[0]) : null;
}

/** What a request presenting the key needs: its hash, scopes and state, and its owner as the database knows them now. */
export interface KeyForAuth {
  publicId: string;
  name: string;
  secretHash: Buffer;
  scopes: Scope[];
  expiresAt: Date;
  revoked: boolean;
  /** Null when the owner is inactive. */
  owner: CurrentUser | null;
  ownerId: number;
}

export async function findKeyForAuth(publicId: string): Promise<KeyForAuth | null> {
  const row = await executeQueryOne<{
    public_id: string;
    name: string;
    secret_hash: Buffer;
    scopes: Scope[];
    expires_at: Date;
    revoked: boolean;
    owner_id: string;
    email: string;
    owner_name: string;
    role: CurrentUser['role'];
    is_active: boolean;
  }>(
    {
      name: 'keys_find_for_auth',
      text: `SELECT k.public_id, k.name, k.secret_hash, k.scopes, k.expires_at, k.revoked_at IS NOT NULL AS revoked,
                    k.owner_id, u.email, u.name AS owner_name, u.role, u.is_active
               FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.public_id = $1`,
    },
    [publicId],
  );
  if (!row) return null;
  const ownerId = Number(row.owner_id);
  return {
    publicId: row.public_id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: row.scopes,
    expiresAt: row.expires_at,
    revoked: row.revoked,
    ownerId,
    owner: row.is_active ? { id: ownerId, email: row.email, name: row.owner_name, role: row.role } : null,
  };
}

/** Records a use: at most once a minute per key, whichever instance asks (the condition is in the UPDATE). */
export async function touchKey(publicId: string, from: string | undefined): Promise<void> {
  await executeWrite(
    {
      name: 'keys_touch',
      text: `UPDATE api_keys SET last_used_at = now(), last_used_from = $2
              WHERE public_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    },
    [publicId, from === undefined ? null : from.slice(0, 64)],
  );
}
