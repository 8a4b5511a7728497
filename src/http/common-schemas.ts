import { z } from 'zod';
import { detail } from './messages';

// PostgreSQL refuses NUL in text; it must be a 400 here, never a 500 from the database.
const noNul = (s: string) => !s.includes('\u0000');

/** A trimmed, non-empty string without NUL characters, at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, detail('NOT_EMPTY'))
    .max(max, detail('MAX_CHARS', { max }))
    .refine(noNul, detail('NO_NUL'));

/** An optional text field: absent, null, or text. */
export const optionalText = (max: number) => text(max).nullable().optional();

export const emailSchema = z
  .string()
  .trim()
  .max(254, detail('MAX_CHARS', { max: 254 }))
  .refine(noNul, detail('NO_NUL'))
  .pipe(z.email(detail('EMAIL')));

export const passwordSchema = z
  .string()
  .min(8, detail('MIN_CHARS', { min: 8 }))
  .max(256, detail('MAX_CHARS', { max: 256 }))
  .refine(noNul, detail('NO_NUL'));

/** A path id: digits only, 1 … 2^53−1 (ids are JSON integers). */
export const IdParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9]{1,16}$/, detail('POSITIVE_INTEGER'))
    .transform(Number)
    .pipe(z.number().int().min(1, detail('POSITIVE_INTEGER')).max(Number.MAX_SAFE_INTEGER, detail('OUT_OF_RANGE')))
    .meta({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, example: 1 } as z.GlobalMeta),
});

/** An integer query parameter (query values arrive as strings). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?[0-9]{1,16}$/, detail('INTEGER'))
    .transform(Number)
    .pipe(z.number().int().min(min, detail('MIN', { min })).max(max, detail('MAX', { max })))
    // In the OpenAPI document: an integer in that range (query values travel as text).
    .meta({ type: 'integer', minimum: min, maximum: max } as z.GlobalMeta);

/** Times in answers: ISO 8601 UTC strings (Dates are serialized so). */
export const timestampSchema = z.iso.datetime().meta({ example: '2026-11-30T09:15:00.000Z' });

/**
 * An answer's type as the code holds it, derived from its schema: the schema's fields, its timestamps
 * (`Times`, checked to be fields of it) as the Dates that JSON serializes to timestampSchema's strings.
 */
export type Held<S extends z.ZodType, Times extends keyof z.output<S> = never> = Omit<z.output<S>, Times> & { [K in Times]: Date };
