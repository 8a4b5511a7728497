import { z } from 'zod';
import { detail } from '../../http/messages';
import { emailSchema, optionalText, text, timestampSchema, type Held } from '../../http/common-schemas';
import { checkPaging, optionalFilters, pageSchemaOf, pagingFields } from '../../http/list-paging';

/** The one list of customer statuses (the table's CHECK constraint says the same: migration 001). */
export const CUSTOMER_STATUSES = ['lead', 'active', 'inactive'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];
/** A new customer's status when the body leaves it out (the column's DEFAULT says the same: migration 001). */
export const DEFAULT_CUSTOMER_STATUS: CustomerStatus = 'lead';
const CUSTOMER_SORTS = ['id', 'name', 'created_at', 'updated_at', 'city', 'status'] as const;

const StatusSchema = z.enum(CUSTOMER_STATUSES);

const fields = {
  name: text(200),
  email: emailSchema.nullable().optional(),
  phone: optionalText(50),
  company: optionalText(200),
  city: optionalText(100),
  status: StatusSchema.optional(),
  notes: optionalText(5000),
};

/**
 * The customer record, declared here once: CUSTOMER_FIELDS are what a body writes (in this order in
 * every INSERT, COPY and temporary table), CUSTOMER_COLUMNS every column an answer and an export carry
 * (CustomerSchema's order), CUSTOMER_ASSIGNED the ones the database sets. migration 001's table is held
 * to them by a test (test/api/db/schema-declarations.test.ts).
 */
export const CUSTOMER_FIELDS = Object.keys(fields) as (keyof typeof fields)[];

/** POST and PUT: the whole customer (fields left out become null, status `lead`). */
export const CreateCustomerBodySchema = z.strictObject(fields);
export type CreateCustomerBody = z.infer<typeof CreateCustomerBodySchema>;

/** A new customer's values in CUSTOMER_FIELDS' order: what the body left out is null, its status the default. */
export const writtenValues = (body: CreateCustomerBody): (string | null)[] =>
  CUSTOMER_FIELDS.map((f) => (f === 'status' ? (body.status ?? DEFAULT_CUSTOMER_STATUS) : (body[f] ?? null)));

/** PATCH: any of the fields, at least one. */
export const UpdateCustomerBodySchema = z
  .strictObject({ ...fields, name: fields.name.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: detail('CHANGE_ONE') });
export type UpdateCustomerBody = z.infer<typeof UpdateCustomerBodySchema>;

/**
 * The customers list's filters, declared once: each is an optional query parameter, part of the
 * cursor's scope and of the statement's name; the repository must give each its SQL (CUSTOMER_FILTERS,
 * checked by the compiler). docs/data-layer.md shows how to add one.
 */
export const CUSTOMER_LIST_FILTERS = {
  q: text(200).meta({ description: 'A case-insensitive part of name, email, company or phone (% and _ literal)' }),
  status: StatusSchema,
  city: text(100),
};
export type CustomerListFilters = { [K in keyof typeof CUSTOMER_LIST_FILTERS]: z.output<(typeof CUSTOMER_LIST_FILTERS)[K]> };

const listOrder = {
  sort: z.enum(CUSTOMER_SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
};

export const ListCustomersQuerySchema = z
  .object({
    ...pagingFields,
    ...optionalFilters(CUSTOMER_LIST_FILTERS),
    ...listOrder,
  })
  .superRefine(checkPaging);
export type ListCustomersQuery = z.infer<typeof ListCustomersQuerySchema>;

const EXPORT_FORMATS = ['csv', 'ndjson'] as const;

/** GET /api/customers/export: the list's filters and order, no paging. */
export const ExportCustomersQuerySchema = z.object({
  ...optionalFilters(CUSTOMER_LIST_FILTERS),
  ...listOrder,
  format: z.enum(EXPORT_FORMATS).default('csv'),
  bom: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: 'CSV only: start with a UTF-8 byte order mark (for Excel)' }),
});
export type ExportCustomersQuery = z.infer<typeof ExportCustomersQuerySchema>;

/** If-Match: `"3"`, `W/"3"`, a comma-separated list of them, or `*`. */
export const IfMatchSchema = z
  .string()
  .max(1000)
  .transform((value, ctx) => {
    if (value.trim() === '*') return '*' as const;
    const versions: number[] = [];
    for (const tag of value.split(',')) {
      const match = /^\s*(?:W\/)?"([0-9]{1,9})"\s*$/.exec(tag);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: detail('ENTITY_TAG') });
        return z.NEVER;
      }
      versions.push(Number(match[1]));
    }
    return versions;
  })
  .optional();
export type IfMatch = z.infer<typeof IfMatchSchema>;


/** A customer as the API answers it (docs/api.md §5). */
export const CustomerSchema = z
  .object({
    id: z.number().int().meta({ example: 42 }),
    name: z.string().meta({ example: 'Ayşe Kaya' }),
    email: z.string().nullable().meta({ example: 'ayse@example.com' }),
    phone: z.string().nullable(),
    company: z.string().nullable(),
    city: z.string().nullable().meta({ example: 'Izmir' }),
    status: StatusSchema,
    notes: z.string().nullable(),
    version: z.number().int().meta({ description: 'Bumped by every write; the ETag and If-Match value', example: 1 }),
    created_at: timestampSchema,
    updated_at: timestampSchema,
    created_by: z.number().int().nullable(),
  })
  .meta({ id: 'Customer' });

export type Customer = Held<typeof CustomerSchema, 'created_at' | 'updated_at'>;
export const CUSTOMER_COLUMNS = Object.keys(CustomerSchema.shape) as (keyof Customer)[];
export const CUSTOMER_ASSIGNED = CUSTOMER_COLUMNS.filter((c) => !(CUSTOMER_FIELDS as string[]).includes(c));

export const CustomerPageSchema = pageSchemaOf(CustomerSchema, 'CustomerPage');

/** What an import wrote and refused (docs/api.md §5). */
export const ImportReportSchema = z
  .object({
    inserted: z.number().int().meta({ description: 'Customers written' }),
    rejected: z.number().int().meta({ description: 'Rows refused (not written)' }),
    errors: z
      .array(
        z.object({
          line: z.number().int().meta({ description: "The line of the file where the row starts (a CSV's header is line 1)" }),
          field: z.string().nullable().meta({ description: 'The field at fault; null for the row as a whole' }),
          message: z.string(),
        }),
      )
      .meta({ description: 'The first 1,000 errors, in file order' }),
  })
  .meta({ id: 'ImportReport' });
export type ImportReport = z.output<typeof ImportReportSchema>;
export type ImportError = ImportReport['errors'][number];
