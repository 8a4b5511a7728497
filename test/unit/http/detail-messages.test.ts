import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DETAIL_KEYS, detail, renderDetail } from '../../../src/http/messages';

// details[].message texts are declared by key with both languages (messages.ts), never matched by text.
describe('keyed detail messages', () => {
  test('each key renders in English and in Turkish, differently, with its placeholders filled', () => {
    for (const key of DETAIL_KEYS) {
      const params = { min: 3, max: 7 };
      const [en, tr] = [renderDetail(detail(key, params), 'en')!, renderDetail(detail(key, params), 'tr')!];
      expect([key, typeof en, typeof tr, en === tr, /\{\w+\}/.test(en + tr)]).toEqual([key, 'string', 'string', false, false]);
    }
  });

  test('params travel with the key; a message that is not a key is not rendered', () => {
    expect(renderDetail(detail('MAX_CHARS', { max: 200 }), 'en')).toBe('must be at most 200 characters');
    expect(renderDetail(detail('MAX_CHARS', { max: 200 }), 'tr')).toBe('en fazla 200 karakter olmalı');
    expect(renderDetail('Invalid input: expected string, received number', 'tr')).toBeUndefined();
    expect(renderDetail('NOT_A_KEY', 'en')).toBeUndefined();
  });

  test('no route schema or route writes a detail as an English literal in a zod check or an ErrorDetail', () => {
    const files = execFileSync('git', ['ls-files', 'src/http', 'src/modules'], { cwd: join(__dirname, '..', '..', '..') })
      .toString()
      .trim()
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('messages.ts'));
    // A zod check given its message as a literal (first argument or after others), or an ErrorDetail's message.
    const literal = /\.[a-z]\w*\((?:[^()]*?,\s*)?'(?:must|is|cannot|belongs|not)\b|message: '(?:must|is|cannot|belongs|not)\b/;
    const offenders = files.filter((f) => literal.test(readFileSync(join(__dirname, '..', '..', '..', f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
