import type { PageSort } from './page-query';

/**
 * How each type of sort key travels in a cursor: the SQL that writes it as text (exact to the
 * microsecond) and what that text looks like when a cursor comes back. Declared together, so the
 * format and its check cannot drift apart (test/api/db/page-keys.test.ts runs the SQL against the pattern).
 */
export const PAGE_KEYS: Record<PageSort['keyType'], { text: (expression: string) => string; pattern: RegExp }> = {
  bigint: { text: (e) => `${e}::text`, pattern: /^-?[0-9]{1,19}$/ },
  timestamptz: {
    text: (e) => `to_char(${e} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    pattern: /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/,
  },
  // eslint-disable-next-line no-control-regex
  text: { text: (e) => e, pattern: /^[^\u0000]{0,1000}$/ },
};

/** A sort key over an allow-listed, never-NULL expression (ascending; the request sets the direction). */
export const sortKey = (expression: string, keyType: PageSort['keyType']): PageSort => ({ key: expression, keyText: PAGE_KEYS[keyType].text(expression), keyType, descending: false });
