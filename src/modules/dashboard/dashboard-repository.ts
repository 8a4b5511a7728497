import { executeQueryOne } from '../../db';
import { toCustomer, type Customer, type CustomerRow } from '../customers/customers-repository';

export interface Dashboard {
  customers: { total: number; by_status: { lead: number; active: number; inactive: number }; new_last_30_days: number };
  users: { total: number; active: number };
  top_cities: { city: string; count: number }[];
  recent_customers: Customer[];
}

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

// The seed's "fix dashboard multiple queries": everything in one round trip, as one JSON row.
const DASHBOARD = {
  name: 'dashboard',
  text: `WITH c AS (
      SELECT count(*)::int AS total,
             count(*) FILTER (WHERE status = 'lead')::int AS lead,
             count(*) FILTER (WHERE status = 'active')::int AS active,
             count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
             count(*) FILTER (WHERE created_at >= NOW() - INTERVAL '30 days')::int AS new_last_30_days
        FROM customers
    ), u AS (
      SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active FROM users
    ), cities AS (
      SELECT city, count(*)::int AS count FROM customers WHERE city IS NOT NULL
       GROUP BY city ORDER BY count DESC, city LIMIT 5
    ), recent AS (
      SELECT id, name, email, phone, company, city, status, notes, version, created_at, updated_at, created_by
        FROM customers ORDER BY created_at DESC, id DESC LIMIT 5
    )
    SELECT json_build_object(
             'total', c.total,
             'by_status', json_build_object('lead', c.lead, 'active', c.active, 'inactive', c.inactive),
             'new_last_30_days', c.new_last_30_days) AS customers,
           json_build_object('total', u.total, 'active', u.active) AS users,
           COALESCE((SELECT json_agg(json_build_object('city', city, 'count', count) ORDER BY count DESC, city) FROM cities), '[]'::json) AS top_cities,
           COALESCE((SELECT json_agg(recent ORDER BY created_at DESC, id DESC) FROM recent), '[]'::json) AS recent_customers
      FROM c, u`,
};

export async function readDashboard(): Promise<Dashboard> {
  const row = await executeQueryOne<DashboardRow>(DASHBOARD);
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
