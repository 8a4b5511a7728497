import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The README is the front door: short, its links resolve, and it and docs/ use no word a reader of the
// repository cannot resolve (what only the people who wrote it had: an issue, the original design note).
const ROOT = join(__dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

describe('the front door', () => {
  test('README.md is at most 200 lines, with how a request flows and where to change things', () => {
    expect(README.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
    expect(README).toMatch(/^## How a request flows$/m);
    expect(README).toMatch(/^## Where to change things$/m);
  });

  test("every relative link of the README and docs/ names a file that exists", () => {
    const broken = ['README.md', ...DOCS].flatMap((file) => {
      const dir = file.includes('/') ? join(ROOT, 'docs') : ROOT;
      return [...readFileSync(join(ROOT, file), 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^[a-z]+:/.test(target) && !existsSync(join(dir, target)))
        .map((target) => `${file} → ${target}`);
    });
    expect(broken).toEqual([]);
  });

  test('no "the issue" or "the seed" in the README or docs/', () => {
    const found = ['README.md', ...DOCS].filter((file) => /\bthe (issue|seed)\b/i.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(found).toEqual([]);
  });
});
