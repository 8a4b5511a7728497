import { spawnSync } from 'node:child_process';

/**
 * The uid and gid to run PostgreSQL's and PgBouncer's programs as: they refuse root, so root runs
 * them as the postgres OS user; anyone else runs them as themselves ({}).
 */
export function serverIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(spawnSync('id', ['-u', 'postgres']).stdout), gid: Number(spawnSync('id', ['-g', 'postgres']).stdout) };
}
