import type { z } from 'zod';
import { READ_REPLICA, executeQueryOne } from '../../db';
import { CUSTOMER_SELECT, CUSTOMER_STATUSES, toCustomer, type Customer, type CustomerRow } from '../customers';
import type { DashboardSchema } from './dashboard-schemas';

/** The dashboard's numbers as read (DashboardSchema without generated_at, which the service adds). */
export type Dashboard = Omit<z.output<typeof DashboardSchema>, 'generated_at' | 'recent_customers'> & { recent_customers: Customer[] };

interface DashboardRow {
  customers: Dashboard['customers'];
  users: Dashboard['users'];
  top_cities: Dashboard['top_cities'];
  recent_customers: (Omit<CustomerRow, 'created_at' | 'updated_at' | 'id' | 'created_by'> & {
    id: number;
    created_by: number | null;
    created_at: string;
    updated_at: string;
  })[];
}

// Everything in one round trip, as one JSON row. Customer numbers are sums of the counters migration
// 002 keeps in step with every write (a few rows per status, day and city, however many customers
// there are), never a scan of the customers table.
export const DASHBOARD = {
  name: 'dashboard',
  text: `WITH c AS (
      SELECT coalesce(sum(n), 0)::int AS total,
             ${CUSTOMER_STATUSES.map((s) => `coalesce(sum(n) FILTER (WHERE status = '${s}'), 0)::int AS ${s}`).join(',\n             ')}
        FROM customer_status_counts
    ), since AS (
      SELECT NOW() - INTERVAL '30 days' AS t, ((NOW() - INTERVAL '30 days') AT TIME ZONE 'UTC')::date AS day
    ), new30 AS (
      -- Whole UTC days after the boundary from the day counters, the boundary day itself from the index.
      SELECT (SELECT coalesce(sum(n), 0) FROM customer_day_counts, since WHERE customer_day_counts.day > since.day)
           + (SELECT count(*) FROM customers, since
               WHERE created_at >= since.t AND created_at < (since.day + 1)::timestamp AT TIME ZONE 'UTC') AS n
    ), u AS (
      SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active FROM users
    ), cities AS (
      SELECT city, sum(n)::int AS count FROM customer_city_counts GROUP BY city HAVING sum(n) > 0 ORDER BY count DESC, city LIMIT 5
    ), recent AS (
      SELECT ${CUSTOMER_SELECT}
        FROM customers ORDER BY created_at DESC, id DESC LIMIT 5
    )
    SELECT json_build_object(
             'total', c.total,
             'by_status', json_build_object(${CUSTOMER_STATUSES.map((s) => `'${s}', c.${s}`).join(', ')}),
             'new_last_30_days', new30.n::int) AS customers,
           json_build_object('total', u.total, 'active', u.active) AS users,
           COALESCE((SELECT json_agg(json_build_object('city', city, 'count', count) ORDER BY count DESC, city) FROM cities), '[]'::json) AS top_cities,
           COALESCE((SELECT json_agg(recent ORDER BY created_at DESC, id DESC) FROM recent), '[]'::json) AS recent_customers
      FROM c, u, new30`,
};

export async function readDashboard(): Promise<Dashboard> {
  const row = await executeQueryOne<DashboardRow>(DASHBOARD, [], READ_REPLICA);
  if (!row) throw new Error('dashboard query returned no row');
  return {
    customers: row.customers,
    users: row.users,
    top_cities: row.top_cities,
    recent_customers: row.recent_customers.map((c) =>
      toCustomer({ ...c, id: String(c.id), created_by: c.created_by === null ? null : String(c.created_by), created_at: new Date(c.created_at), updated_at: new Date(c.updated_at) }),
    ),
  };
}
