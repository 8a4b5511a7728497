import { api } from '../../helpers/api';
import { createUser, type TestUser } from '../../helpers/factories';

let caller: TestUser;
beforeAll(async () => {
  caller = await createUser();
});

const BAD_REQUESTS: [string, (lang: string) => Promise<{ body: { error: { details?: { path: string; message: string }[] } } }>][] = [
  ['a non-numeric id', (lang) => api().get('/api/customers/abc').set('Authorization', caller.auth).set('Accept-Language', lang)],
  ['a page past the offset bound', (lang) => api().get('/api/customers?page=600&limit=20').set('Authorization', caller.auth).set('Accept-Language', lang)],
  ['a bad cursor', (lang) => api().get('/api/customers?cursor=zzz').set('Authorization', caller.auth).set('Accept-Language', lang)],
  [
    'a body of wrong types, unknown keys and a bad enum',
    (lang) => api().post('/api/customers').set('Authorization', caller.auth).set('Accept-Language', lang).send({ name: 5, status: 'vip', extra: 1, email: 'x' }),
  ],
  ['an empty PATCH', (lang) => api().patch('/api/customers/1').set('Authorization', caller.auth).set('Accept-Language', lang).send({})],
  ['a malformed If-Match', (lang) => api().patch('/api/customers/1').set('Authorization', caller.auth).set('If-Match', 'nope').set('Accept-Language', lang).send({ name: 'x' })],
];

describe('validation details follow the request language, like message', () => {
  test.each(BAD_REQUESTS)('%s: every detail is Turkish under Accept-Language: tr', async (_what, send) => {
    const en = (await send('en')).body.error.details ?? [];
    const tr = (await send('tr')).body.error.details ?? [];
    expect(en.length).toBeGreaterThan(0);
    expect(tr.map((d) => d.path)).toEqual(en.map((d) => d.path));
    tr.forEach((d, i) => expect(d.message).not.toBe(en[i]!.message));
  });

  test('a known text, word for word', async () => {
    const res = await api().get('/api/customers/0').set('Authorization', caller.auth).set('Accept-Language', 'tr');
    expect(res.body.error.details).toEqual([{ path: 'id', message: 'pozitif bir tam sayı olmalı' }]);
  });
});
