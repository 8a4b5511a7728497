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
    .pipe(z.number().int().min(1, 'must be a positive integer').max(Number.MAX_SAFE_INTEGER, 'is out of range')),
});

/** An integer query parameter (query values arrive as strings). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?[0-9]{1,16}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
