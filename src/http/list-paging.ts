import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PAGE_KEYS, type Page, type PageSort, type PageStart } from '../db';
import { queryInt } from './common-schemas';
import { validationError } from './errors';
import { detail } from './messages';

/** `page` is for jumping: past this offset its cost would grow with the depth, and `cursor` is the way on. */
const MAX_OFFSET = 10_000;

/** The query parameters every list shares (docs/api.md §5); spread into a list's own z.object. */
export const pagingFields = {
  page: queryInt(1, 1_000_000).optional(),
  limit: queryInt(1, 100)
    .default(20)
    .meta({ type: 'integer', minimum: 1, maximum: 100, default: 20 } as z.GlobalMeta),
  cursor: z.string().min(1, detail('NOT_EMPTY')).max(2000, detail('NOT_A_CURSOR')).optional(),
  count: z.enum(['estimated', 'exact', 'none']).default('estimated'),
};

export type Paging = z.infer<z.ZodObject<typeof pagingFields>>;

/** The rules across the paging fields, for a list schema's superRefine. */
export function checkPaging(q: Paging, ctx: z.RefinementCtx): void {
  if (q.cursor !== undefined && q.page !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['cursor'], message: detail('CURSOR_WITH_PAGE') });
  }
  if (q.page !== undefined && (q.page - 1) * q.limit > MAX_OFFSET) {
    ctx.addIssue({
      code: 'custom',
      path: ['page'],
      message: detail('OFFSET_TOO_DEEP', { max: MAX_OFFSET }),
    });
  }
}

/** A short fingerprint of what a cursor belongs to: the list, its filters and its sort. */
export function cursorScope(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

/**
 * The cursor scope of a list request: the list's name, the value of each of its declared filters (in
 * their declared order), its sort and order. A filter added to the declaration is in the scope at once.
 */
export function listCursorScope(list: string, filters: Readonly<Record<string, unknown>>, query: Readonly<Record<string, unknown>>): string {
  return cursorScope([list, ...Object.keys(filters).map((name) => query[name]), query.sort, query.order]);
}

/** A list's filters as optional query parameters (spread into its query schema). */
export function optionalFilters<F extends Record<string, z.ZodType>>(filters: F): { [K in keyof F]: z.ZodOptional<F[K]> } {
  return Object.fromEntries(Object.entries(filters).map(([name, schema]) => [name, schema.optional()])) as { [K in keyof F]: z.ZodOptional<F[K]> };
}

export function encodeCursor(scope: string, at: { key: string; id: number }): string {
  return Buffer.from(JSON.stringify([1, scope, at.key, at.id])).toString('base64url');
}

/**
 * Where the page starts. A cursor is opaque base64url JSON; one made for other filters or another
 * sort, or not made by us at all, is a 400 on `cursor` (nothing reaches the database).
 */
export function pageStart(q: Paging, scope: string, keyType: PageSort['keyType']): PageStart {
  if (q.cursor === undefined) return { offset: ((q.page ?? 1) - 1) * q.limit };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 4 || decoded[0] !== 1) {
    throw validationError([{ path: 'cursor', message: detail('NOT_A_CURSOR') }], 'VALIDATION_QUERY');
  }
  const [, cursorScopeValue, key, id] = decoded as unknown[];
  if (cursorScopeValue !== scope) {
    throw validationError([{ path: 'cursor', message: detail('CURSOR_OF_OTHER_LIST') }], 'VALIDATION_QUERY');
  }
  if (typeof key !== 'string' || !PAGE_KEYS[keyType].pattern.test(key) || !Number.isSafeInteger(id) || (id as number) < 0) {
    throw validationError([{ path: 'cursor', message: detail('NOT_A_CURSOR') }], 'VALIDATION_QUERY');
  }
  return { offset: 0, after: { key, id: id as number } };
}

const PaginationSchema = z
  .object({
    limit: z.number().int(),
    next_cursor: z.string().nullable().meta({ description: 'Pass back as `cursor` for the next page; null on the last page' }),
    page: z.number().int().nullable().meta({ description: 'null when the page was asked for by cursor' }),
    total: z.number().int().nullable().meta({ description: 'null with count=none' }),
    total_pages: z.number().int().nullable(),
    total_is_estimate: z.boolean().meta({ description: 'true when total is the planner estimate (count=estimated, more than 10,000 matches)' }),
  })
  .meta({ id: 'Pagination' });

/** The OpenAPI schema of a list answer of `item`s. */
export const pageSchemaOf = (item: z.ZodType, id: string) => z.object({ data: z.array(item), pagination: PaginationSchema }).meta({ id });

/** docs/api.md's list shape: the page, and how to get the next one. */
export function paginated<T>(data: T[], page: Page<unknown>, q: Paging, scope: string): { data: T[]; pagination: z.output<typeof PaginationSchema> } {
  return {
    data,
    pagination: {
      limit: q.limit,
      next_cursor: page.next ? encodeCursor(scope, page.next) : null,
      page: q.cursor === undefined ? (q.page ?? 1) : null,
      total: page.total,
      total_pages: page.total === null ? null : Math.ceil(page.total / q.limit),
      total_is_estimate: page.totalIsEstimate,
    },
  };
}
