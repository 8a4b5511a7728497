/** Localized `message` texts; codes stay stable and are never localized. */
const MESSAGES = {
  INVALID_JSON: { en: 'Request body is not valid JSON', tr: 'İstek gövdesi geçerli bir JSON değil' },
  VALIDATION_ERROR: { en: 'Request is invalid', tr: 'İstek geçersiz' },
  VALIDATION_QUERY: { en: 'Query parameters are invalid', tr: 'Sorgu parametreleri geçersiz' },
  VALIDATION_HEADER: { en: 'A request header is invalid', tr: 'Bir istek başlığı geçersiz' },
  UNAUTHORIZED: { en: 'Authentication required', tr: 'Kimlik doğrulaması gerekli' },
  TOKEN_EXPIRED: { en: 'Token has expired', tr: 'Belirtecin süresi doldu' },
  TOKEN_INVALID: { en: 'Token is invalid', tr: 'Belirteç geçersiz' },
  REFRESH_TOKEN_INVALID: { en: 'Refresh token is invalid, used or expired: log in again', tr: 'Yenileme belirteci geçersiz, kullanılmış veya süresi dolmuş: yeniden giriş yapın' },
  REFRESH_TOKEN_MISSING: { en: 'No refresh token: send it in the body or the cookie', tr: 'Yenileme belirteci yok: gövdede veya çerezde gönderin' },
  INVALID_CREDENTIALS: { en: 'Invalid email or password', tr: 'E-posta veya şifre hatalı' },
  WRONG_PASSWORD: { en: 'Current password is wrong', tr: 'Mevcut şifre hatalı' },
  FORBIDDEN: { en: 'You are not allowed to do this', tr: 'Bu işlem için yetkiniz yok' },
  ORIGIN_NOT_ALLOWED: {
    en: 'A request that carries the session cookie must come from the API itself or an origin in CORS_ORIGINS',
    tr: 'Oturum çerezini taşıyan bir istek API’nin kendisinden veya CORS_ORIGINS içindeki bir kaynaktan (origin) gelmelidir',
  },
  LAST_ADMIN: { en: 'The last active admin cannot be removed or demoted', tr: 'Son aktif yönetici silinemez veya yetkisi düşürülemez' },
  NOT_FOUND: { en: 'Resource not found', tr: 'Kaynak bulunamadı' },
  ROUTE_NOT_FOUND: { en: 'No such route', tr: 'Böyle bir yol yok' },
  CONFLICT: { en: 'Resource already exists', tr: 'Kaynak zaten mevcut' },
  EMAIL_TAKEN: { en: 'Email is already in use', tr: 'E-posta zaten kullanımda' },
  REFERENCE_MISSING: { en: 'A referenced resource does not exist', tr: 'Başvurulan kaynak mevcut değil' },
  IDEMPOTENCY_KEY_IN_USE: {
    en: 'A request with this Idempotency-Key is still running; try again shortly',
    tr: 'Bu Idempotency-Key ile gönderilen bir istek hâlâ sürüyor; kısa süre sonra tekrar deneyin',
  },
  IDEMPOTENCY_KEY_REUSED: {
    en: 'This Idempotency-Key was used for a different request',
    tr: 'Bu Idempotency-Key farklı bir istek için kullanıldı',
  },
  IMPORT_INVALID: {
    en: 'The import has invalid rows: nothing was written (the report lists them)',
    tr: 'İçe aktarmada geçersiz satırlar var: hiçbir şey yazılmadı (rapor bunları listeliyor)',
  },
  UNSUPPORTED_IMPORT_TYPE: { en: 'Content-Type must be text/csv or application/x-ndjson', tr: 'Content-Type text/csv veya application/x-ndjson olmalı' },
  PRECONDITION_FAILED: { en: 'The resource has changed since it was read', tr: 'Kaynak okunduktan sonra değişti' },
  PAYLOAD_TOO_LARGE: { en: 'Request body is too large', tr: 'İstek gövdesi çok büyük' },
  UNSUPPORTED_MEDIA_TYPE: { en: 'Content-Type must be application/json', tr: 'Content-Type application/json olmalı' },
  TOO_MANY_REQUESTS: { en: 'Too many requests, try again later', tr: 'Çok fazla istek, daha sonra tekrar deneyin' },
  POOL_EXHAUSTED: { en: 'The server is busy, try again shortly', tr: 'Sunucu meşgul, kısa süre sonra tekrar deneyin' },
  DATABASE_UNAVAILABLE: { en: 'The database is unavailable', tr: 'Veritabanına ulaşılamıyor' },
  QUERY_TIMEOUT: { en: 'The database took too long to answer', tr: 'Veritabanı çok geç yanıt verdi' },
  INTERNAL_ERROR: { en: 'Internal server error', tr: 'Sunucu hatası' },
  API_RUNNING: { en: 'API is running', tr: 'API çalışıyor' },
  DB_CONNECTION_OK: { en: 'Database connection successful', tr: 'Database bağlantısı başarılı' },
  DB_CONNECTION_FAILED: { en: 'Database connection failed', tr: 'Database bağlantısı başarısız' },
  OPTIMAL_RANGE: { en: '60-80% usage', tr: '60-80% kullanım' },
  WARN_HIGH_USAGE: { en: 'Pool usage is {usage}% (at or above 60%)', tr: 'Havuz kullanımı %{usage} (%60 veya üzeri)' },
  WARN_WAITING: { en: '{waiting} caller(s) are waiting for a connection', tr: '{waiting} istek bağlantı bekliyor' },
  WARN_NONE_AVAILABLE: { en: 'No connection is available and the pool is at its maximum size', tr: 'Boşta bağlantı yok ve havuz en büyük boyutunda' },
  WARN_REPLICA: {
    en: 'Read replica {pool} is {state}: its reads go to the primary',
    tr: 'Okuma kopyası {pool} durumu {state}: okumaları birincil sunucuya gidiyor',
  },
} as const;

export type MessageKey = keyof typeof MESSAGES;
export type Locale = 'en' | 'tr';

/** The message in `locale`, with `{name}` placeholders filled in. */
export function translate(key: MessageKey, locale: Locale, params: Record<string, string | number> = {}): string {
  return MESSAGES[key][locale].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

/** Turkish for the `details[].message` texts the schemas and routes write (English is the source). */
const DETAILS_TR: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^must be a positive integer$/, () => 'pozitif bir tam sayı olmalı'],
  [/^must be an integer$/, () => 'bir tam sayı olmalı'],
  [/^must be a valid email address$/, () => 'geçerli bir e-posta adresi olmalı'],
  [/^must be an entity tag such as "3"$/, () => '"3" gibi bir varlık etiketi olmalı'],
  [/^must be 1-255 printable ASCII characters$/, () => '1-255 yazdırılabilir ASCII karakter olmalı'],
  [/^must be at least (\d+) characters$/, (m) => `en az ${m[1]} karakter olmalı`],
  [/^must be at most (\d+) characters$/, (m) => `en fazla ${m[1]} karakter olmalı`],
  [/^must be at least (-?\d+)$/, (m) => `en az ${m[1]} olmalı`],
  [/^must be at most (-?\d+)$/, (m) => `en fazla ${m[1]} olmalı`],
  [/^must change at least one field$/, () => 'en az bir alanı değiştirmeli'],
  [/^must not be empty$/, () => 'boş olmamalı'],
  [/^must not contain NUL characters$/, () => 'NUL karakteri içermemeli'],
  [/^is out of range$/, () => 'izin verilen aralığın dışında'],
  [/^is required$/, () => 'zorunlu'],
  [/^is wrong$/, () => 'yanlış'],
  [/^is not a cursor of this list$/, () => 'bu listenin bir imleci (cursor) değil'],
  [/^belongs to other filters or another sort; start again without cursor$/, () => 'başka filtrelere veya başka bir sıralamaya ait; cursor olmadan baştan başlayın'],
  [/^cannot be combined with page$/, () => 'page ile birlikte kullanılamaz'],
  [
    /^\(page - 1\) × limit must be at most (\d+); follow next_cursor \(cursor=…\) to read further$/,
    (m) => `(page - 1) × limit en fazla ${m[1]} olabilir; daha ileri okumak için next_cursor değerini (cursor=…) kullanın`,
  ],
];

/** A detail message in `locale`, or undefined when there is no translation for it. */
export function translateDetail(message: string, locale: Locale): string | undefined {
  if (locale === 'en') return message;
  for (const [pattern, render] of DETAILS_TR) {
    const match = pattern.exec(message);
    if (match) return render(match);
  }
  return undefined;
}
