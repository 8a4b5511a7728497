import { z } from 'zod';
import { timestampSchema } from '../../http/common-schemas';
import { CUSTOMER_STATUSES, CustomerSchema } from '../customers';

const count = z.number().int().min(0);

/** GET /api/dashboard (docs/api.md §6). */
export const DashboardSchema = z
  .object({
    customers: z.object({
      total: count,
      by_status: z.object(Object.fromEntries(CUSTOMER_STATUSES.map((status) => [status, count])) as Record<(typeof CUSTOMER_STATUSES)[number], typeof count>),
      new_last_30_days: count,
    }),
    users: z.object({ total: count, active: count }),
    top_cities: z.array(z.object({ city: z.string(), count })).max(5),
    recent_customers: z.array(CustomerSchema).max(5),
    generated_at: timestampSchema.meta({ description: 'When the numbers were computed (at most DASHBOARD_MAX_AGE_S ago)' }),
  })
  .meta({ id: 'Dashboard' });
