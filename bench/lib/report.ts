/** The endpoint the targets are about. */
export const BY_ID = 'GET /api/customers/:id';

export interface Row {
  endpoint: string;
  pooled: { rps: number; p50: number; p99: number; errors: number; sessionsPerRequest: number };
  before: { rps: number; p50: number; p99: number; errors: number; sessionsPerRequest: number };
  ratio: number;
  ofNodeCeiling: number | null;
  ofDbCeiling: number | null;
}

export interface Report {
  startedAt: string;
  machine: string;
  database: string;
  settings: Record<string, number | string>;
  rows: Row[];
  ceilings: { node: { rps: number; p50: number; p99: number }; nodePrepared: number; generator: number; pgbenchExtended: number | null; pgbenchPrepared: number | null };
  peakRssMb: number;
  targets: { name: string; value: string; met: boolean }[];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (n: number | null) => (n === null ? 'n/a' : `${fmt(n, 2)}×`);

export function toMarkdown(r: Report): string {
  const lines = [
    `# customer-api benchmark — ${r.startedAt}`,
    '',
    `Machine: ${r.machine}. Database: ${r.database}.`,
    `Settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}. Medians of the rounds.`,
    '',
    '| endpoint | pooled req/s | p50 | p99 | errors | sessions/req | before req/s | p50 | p99 | errors | sessions/req | pooled/before | of Node ceiling | of DB ceiling |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (row) =>
        `| ${row.endpoint} | ${fmt(row.pooled.rps)} | ${row.pooled.p50} ms | ${row.pooled.p99} ms | ${row.pooled.errors} | ${fmt(row.pooled.sessionsPerRequest, 3)} | ${fmt(row.before.rps)} | ${row.before.p50} ms | ${row.before.p99} ms | ${row.before.errors} | ${fmt(row.before.sessionsPerRequest, 2)} | **${fmt(row.ratio, 1)}×** | ${pct(row.ofNodeCeiling)} | ${pct(row.ofDbCeiling)} |`,
    ),
    '',
    `Ceilings: bare node:http + pg.Pool(max 10), same by-id SQL: ${fmt(r.ceilings.node.rps)} req/s (p50 ${r.ceilings.node.p50} ms, p99 ${r.ceilings.node.p99} ms); ` +
      `the same server with the SQL as a named prepared statement, as the API runs it: ${fmt(r.ceilings.nodePrepared)} req/s ` +
      `(the by-id read at ${((r.rows.find((row) => row.endpoint === BY_ID)?.pooled.rps ?? 0) / Math.max(1, r.ceilings.nodePrepared)).toFixed(2)}× of it); ` +
      `pgbench, same SQL: ${r.ceilings.pgbenchExtended === null ? 'not installed' : `${fmt(r.ceilings.pgbenchExtended)} tps extended, ${fmt(r.ceilings.pgbenchPrepared ?? 0)} tps prepared`}.`,
    `The load generator itself (autocannon against a node:http server answering \`{}\` without a database) reached ${fmt(r.ceilings.generator)} req/s: no row can exceed that.`,
    `Peak RSS of the pooled API under load: ${fmt(r.peakRssMb)} MB.`,
    '',
    '| target | value | met |',
    '|---|---|---|',
    ...r.targets.map((t) => `| ${t.name} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
    '',
  ];
  return lines.join('\n');
}

/** A grouped bar chart (pooled vs before, req/s per endpoint), log scale so both modes are visible. */
export function toSvg(r: Report): string {
  const width = 760;
  const rowHeight = 46;
  const left = 210;
  const height = 60 + r.rows.length * rowHeight + 30;
  const max = Math.max(...r.rows.map((row) => row.pooled.rps), r.ceilings.node.rps, 10);
  const scale = (v: number) => ((Math.log10(Math.max(1, v)) / Math.log10(max * 1.2)) * (width - left - 190));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = r.rows
    .map((row, i) => {
      const y = 50 + i * rowHeight;
      return [
        `<text x="${left - 8}" y="${y + 18}" text-anchor="end" font-size="12">${esc(row.endpoint)}</text>`,
        `<rect x="${left}" y="${y}" width="${scale(row.pooled.rps).toFixed(1)}" height="16" fill="#2b7bb9"/>`,
        `<text x="${left + scale(row.pooled.rps) + 4}" y="${y + 12}" font-size="11">${fmt(row.pooled.rps)} pooled</text>`,
        `<rect x="${left}" y="${y + 19}" width="${scale(row.before.rps).toFixed(1)}" height="16" fill="#d9822b"/>`,
        `<text x="${left + scale(row.before.rps) + 4}" y="${y + 31}" font-size="11">${fmt(row.before.rps)} before (${fmt(row.ratio, 1)}×)</text>`,
      ].join('\n');
    })
    .join('\n');
  const ceilingX = left + scale(r.ceilings.node.rps);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">customer-api req/s (log scale): pooled vs a new connection per request</text>
${bars}
<line x1="${ceilingX.toFixed(1)}" y1="44" x2="${ceilingX.toFixed(1)}" y2="${height - 24}" stroke="#555" stroke-dasharray="4 3"/>
<text x="${ceilingX.toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="11">Node ceiling ${fmt(r.ceilings.node.rps)}</text>
</svg>
`;
}
