import { z } from 'zod';
import { detail } from '../../http/messages';
import { queryInt, timestampSchema, type Held } from '../../http/common-schemas';
import { checkPaging, optionalFilters, pageSchemaOf, pagingFields } from '../../http/list-paging';

/** What the history records (migration 007: the table's CHECK says the same). */
const HISTORY_ENTITIES = ['customer', 'user'] as const;
export type HistoryEntity = (typeof HISTORY_ENTITIES)[number];

const instant = z.iso
  .datetime({ offset: true, message: detail('DATETIME') })
  .transform((value) => new Date(value).toISOString())
  .meta({ type: 'string', format: 'date-time', example: '2026-12-01T00:00:00Z' } as z.GlobalMeta);

/**
 * GET /api/history's filters, declared once (as the customers list's): each is an optional query
 * parameter and part of the cursor's scope; the repository gives each its SQL (HISTORY_FILTERS).
 */
export const HISTORY_LIST_FILTERS = {
  entity: z.enum(HISTORY_ENTITIES),
  actor: queryInt(1, Number.MAX_SAFE_INTEGER).meta({ description: 'The id of the user who made the changes' }),
  since: instant.meta({ description: 'Changes at or after this instant' }),
  until: instant.meta({ description: 'Changes before this instant' }),
};
export type HistoryListFilters = { [K in keyof typeof HISTORY_LIST_FILTERS]: z.output<(typeof HISTORY_LIST_FILTERS)[K]> };

/** GET /api/history: the shared paging rules and the filters; newest first. */
export const ListHistoryQuerySchema = z
  .object({ ...pagingFields, ...optionalFilters(HISTORY_LIST_FILTERS) })
  .superRefine((q, ctx) => {
    checkPaging(q, ctx);
    if (q.since !== undefined && q.until !== undefined && q.since >= q.until) ctx.addIssue({ code: 'custom', path: ['until'], message: detail('AFTER_SINCE') });
  });
export type ListHistoryQuery = z.infer<typeof ListHistoryQuerySchema>;

/** One record's history: the shared paging rules; newest first. */
export const RecordHistoryQuerySchema = z.object(pagingFields).superRefine(checkPaging);

const FieldChangeSchema = z
  .object({
    old: z.unknown().optional().meta({ description: 'The value before (null on an insert)' }),
    new: z.unknown().optional().meta({ description: 'The value after' }),
    changed: z.literal(true).optional().meta({ description: 'A user\'s password only: it changed (no hash is ever recorded)' }),
  })
  .meta({ id: 'FieldChange' });

const UserActorSchema = z
  .object({ type: z.literal('user'), id: z.number().int(), name: z.string().nullable().meta({ description: 'null when the user has since been deleted' }) })
  .meta({ id: 'UserActor' });
const KeyActorSchema = z
  .object({
    type: z.literal('api_key'),
    id: z.string().meta({ description: "The key's public id (docs/api.md §9)" }),
    name: z.string().nullable().meta({ description: 'null when the key has since been deleted with its owner' }),
    owner: UserActorSchema.omit({ type: true }).nullable().meta({ description: 'The user the key acted for' }),
  })
  .meta({ id: 'KeyActor' });

/** One change as the API answers it (docs/api.md §8). */
export const HistoryEntrySchema = z
  .object({
    id: z.number().int(),
    entity: z.enum(HISTORY_ENTITIES),
    entity_id: z.number().int().meta({ example: 42 }),
    operation: z.enum(['insert', 'update', 'delete']),
    changed_at: timestampSchema,
    actor: z
      .discriminatedUnion('type', [UserActorSchema, KeyActorSchema])
      .nullable()
      .meta({ description: 'Who made the change: a person, or an API key for its owner; null for a change made outside the API (psql, a migration)' }),
    request_id: z.string().nullable().meta({ description: 'The X-Request-Id of the request that made it' }),
    changes: z
      .record(z.string(), FieldChangeSchema)
      .nullable()
      .meta({ description: 'Only the fields that changed, with their old and new values (an insert: every field it set); null for a delete', example: { phone: { old: '+90 232 000 00 00', new: '+90 232 111 11 11' } } }),
    last_row: z.record(z.string(), z.unknown()).nullable().meta({ description: 'A delete: the record as it was (a user: without its password hash); else null' }),
  })
  .meta({ id: 'HistoryEntry' });

export type HistoryEntry = Held<typeof HistoryEntrySchema, 'changed_at'>;

export const HistoryPageSchema = pageSchemaOf(HistoryEntrySchema, 'HistoryPage');
