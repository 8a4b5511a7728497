import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/config';
import { EnvSchema } from '../../../src/config/env-schema';

// Every setting the schema reads is written down where people look for it: .env.example (the file they
// copy) and docs/configuration.md (the reference); and nothing is written there that the schema does not read.
const ROOT = join(__dirname, '..', '..', '..');
const SETTINGS = Object.keys(EnvSchema.shape).sort();
// Read before the schema runs (which file to load), so not one of its keys.
const LOADER = ['ENV_FILE'];

describe('the documented settings are the schema', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const reference = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');

  test('.env.example names every setting (set or commented out), and only settings', () => {
    const named = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(SETTINGS.filter((key) => !named.includes(key))).toEqual([]);
    expect(named.filter((key) => !SETTINGS.includes(key) && !LOADER.includes(key))).toEqual([]);
  });

  test('docs/configuration.md names every setting in a table row, and only settings', () => {
    const rows = [...reference.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    expect(SETTINGS.filter((key) => !reference.includes(`\`${key}\``))).toEqual([]);
    expect(rows.filter((key) => !SETTINGS.includes(key) && !LOADER.includes(key))).toEqual([]);
  });

  test('.env.example as it is loads, with no notice', () => {
    const config = loadConfig({ ENV_FILE: join(ROOT, '.env.example'), DATABASE_URL: 'postgres://u@localhost:5432/db' });
    expect(config.notices).toEqual([]);
  });
});
