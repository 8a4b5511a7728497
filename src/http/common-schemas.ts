import { z } from 'zod';

// PostgreSQL refuses NUL in text; it must be a 400 here, never a 500 from the database.
const noNul = (s: string) => !s.includes('\u0000');

/** A trimmed, non-empty string without NUL characters, at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(noNul, 'must not contain NUL characters');

/** An optional text field: absent, null, or text. */
export const optionalText = (max: number) => text(max).nullable().optional();

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .refine(noNul, 'must not contain NUL characters')
  .pipe(z.email('must be a valid email address'));

export const passwordSchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters')
  .refine(noNul, 'must not contain NUL characters');

/** A path id: digits only, 1 … 2^53−1 (ids are JSON integers). */
export const IdParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9]{1,16}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a positive integer').max(Number.MAX_SAFE_INTEGER, 'is out of range'))
    .meta({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, example: 1 } as z.GlobalMeta),
});

/** An integer query parameter (query values arrive as strings). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?[0-9]{1,16}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    // In the OpenAPI document: an integer in that range (query values travel as text).
    .meta({ type: 'integer', minimum: min, maximum: max } as z.GlobalMeta);

/** Times in answers: ISO 8601 UTC strings (Dates are serialized so). */
export const timestampSchema = z.iso.datetime().meta({ example: '2026-11-30T09:15:00.000Z' });
