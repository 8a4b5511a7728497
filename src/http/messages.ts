/** Localized `message` texts; codes stay stable and are never localized. */
const MESSAGES = {
  INVALID_JSON: { en: 'Request body is not valid JSON', tr: 'İstek gövdesi geçerli bir JSON değil' },
  VALIDATION_ERROR: { en: 'Request is invalid', tr: 'İstek geçersiz' },
  VALIDATION_QUERY: { en: 'Query parameters are invalid', tr: 'Sorgu parametreleri geçersiz' },
  VALIDATION_HEADER: { en: 'A request header is invalid', tr: 'Bir istek başlığı geçersiz' },
  MALFORMED_REQUEST: { en: 'Malformed HTTP request', tr: 'Hatalı biçimlendirilmiş HTTP isteği' },
  UNAUTHORIZED: { en: 'Authentication required', tr: 'Kimlik doğrulaması gerekli' },
  TOKEN_EXPIRED: { en: 'Token has expired', tr: 'Belirtecin süresi doldu' },
  TOKEN_INVALID: { en: 'Token is invalid', tr: 'Belirteç geçersiz' },
  REFRESH_TOKEN_INVALID: { en: 'Refresh token is invalid, used or expired: log in again', tr: 'Yenileme belirteci geçersiz, kullanılmış veya süresi dolmuş: yeniden giriş yapın' },
  REFRESH_TOKEN_MISSING: { en: 'No refresh token: send it in the body or the cookie', tr: 'Yenileme belirteci yok: gövdede veya çerezde gönderin' },
  INVALID_CREDENTIALS: { en: 'Invalid email or password', tr: 'E-posta veya şifre hatalı' },
  WRONG_PASSWORD: { en: 'Current password is wrong', tr: 'Mevcut şifre hatalı' },
  KEY_INVALID: { en: 'API key is invalid, revoked or expired', tr: 'API anahtarı geçersiz, iptal edilmiş veya süresi dolmuş' },
  KEY_NOT_ALLOWED: { en: 'An API key cannot be used here: sign in as a person', tr: 'Burada API anahtarı kullanılamaz: bir kişi olarak giriş yapın' },
  KEY_IN_URL: {
    en: 'An API key must not be sent in the URL: send it in the Authorization header (this key may have leaked: rotate it)',
    tr: 'API anahtarı URL içinde gönderilmemeli: Authorization başlığında gönderin (bu anahtar sızmış olabilir: yenileyin)',
  },
  INSUFFICIENT_SCOPE: { en: 'The API key lacks the scope {scope}', tr: 'API anahtarında {scope} kapsamı yok' },
  SERVICE_ACCOUNT_LOGIN: { en: 'A service account cannot log in: use one of its API keys', tr: 'Bir servis hesabı giriş yapamaz: API anahtarlarından birini kullanın' },
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

/**
 * The texts of `details[].message`, keyed like MESSAGES and with `{name}` placeholders. A schema or a
 * route writes detail(KEY, params) where a message goes (a zod check's message, an ErrorDetail's);
 * the answer renders it in the request's language (renderDetail). zod's own messages, for the checks
 * that name none, come from zod's locales.
 */
const DETAILS = {
  REQUIRED: { en: 'is required', tr: 'zorunlu' },
  NOT_EMPTY: { en: 'must not be empty', tr: 'boş olmamalı' },
  NO_NUL: { en: 'must not contain NUL characters', tr: 'NUL karakteri içermemeli' },
  MIN_CHARS: { en: 'must be at least {min} characters', tr: 'en az {min} karakter olmalı' },
  MAX_CHARS: { en: 'must be at most {max} characters', tr: 'en fazla {max} karakter olmalı' },
  MIN: { en: 'must be at least {min}', tr: 'en az {min} olmalı' },
  MAX: { en: 'must be at most {max}', tr: 'en fazla {max} olmalı' },
  INTEGER: { en: 'must be an integer', tr: 'bir tam sayı olmalı' },
  POSITIVE_INTEGER: { en: 'must be a positive integer', tr: 'pozitif bir tam sayı olmalı' },
  OUT_OF_RANGE: { en: 'is out of range', tr: 'izin verilen aralığın dışında' },
  EMAIL: { en: 'must be a valid email address', tr: 'geçerli bir e-posta adresi olmalı' },
  DATETIME: { en: 'must be an ISO 8601 date-time such as 2026-12-01T00:00:00Z', tr: '2026-12-01T00:00:00Z gibi bir ISO 8601 tarih-saat olmalı' },
  AFTER_SINCE: { en: 'must be after since', tr: 'since değerinden sonra olmalı' },
  PASSWORD_FOR_PERSON: { en: 'is required for a person and not allowed for a service account', tr: 'bir kişi için zorunlu, bir servis hesabı için izin verilmez' },
  NO_PASSWORD_FOR_SERVICE: { en: 'a service account has no password', tr: 'bir servis hesabının şifresi yoktur' },
  EACH_ONCE: { en: 'must list each value once', tr: 'her değeri bir kez içermeli' },
  EXPIRES_IN_FUTURE: { en: 'must be in the future and at most {days} days from now', tr: 'gelecekte ve en fazla {days} gün sonra olmalı' },
  OWNER_IS_SERVICE: { en: 'must be yourself or an active service account', tr: 'kendiniz veya aktif bir servis hesabı olmalı' },
  CHANGE_ONE: { en: 'must change at least one field', tr: 'en az bir alanı değiştirmeli' },
  WRONG: { en: 'is wrong', tr: 'yanlış' },
  SESSION_ID: { en: 'must be a session id (a UUID)', tr: 'bir oturum kimliği (UUID) olmalı' },
  // zod's own English names the value received, which a final issue no longer has: Turkish says less.
  WRONG_TYPE: { en: 'Invalid input: expected {expected}', tr: 'Geçersiz değer: beklenen {expected}' },
  ENTITY_TAG: { en: 'must be an entity tag such as "3"', tr: '"3" gibi bir varlık etiketi olmalı' },
  IDEMPOTENCY_KEY: { en: 'must be 1-255 printable ASCII characters', tr: '1-255 yazdırılabilir ASCII karakter olmalı' },
  NOT_A_REFRESH_TOKEN: { en: 'is not a refresh token', tr: 'bir yenileme belirteci değil' },
  NOT_A_CURSOR: { en: 'is not a cursor of this list', tr: 'bu listenin bir imleci (cursor) değil' },
  CURSOR_OF_OTHER_LIST: {
    en: 'belongs to other filters or another sort; start again without cursor',
    tr: 'başka filtrelere veya başka bir sıralamaya ait; cursor olmadan baştan başlayın',
  },
  CURSOR_WITH_PAGE: { en: 'cannot be combined with page', tr: 'page ile birlikte kullanılamaz' },
  OFFSET_TOO_DEEP: {
    en: '(page - 1) × limit must be at most {max}; follow next_cursor (cursor=…) to read further',
    tr: '(page - 1) × limit en fazla {max} olabilir; daha ileri okumak için next_cursor değerini (cursor=…) kullanın',
  },
  IMPORT_HEADER: {
    en: 'line 1 must name the columns once each, name among them, from {columns}',
    tr: '1. satır sütunları birer kez adlandırmalı, name dahil, şunlardan: {columns}',
  },
  IMPORT_HEADER_UNKNOWN: {
    en: 'line 1 must name the columns once each, name among them, from {columns}; unknown: {unknown}',
    tr: '1. satır sütunları birer kez adlandırmalı, name dahil, şunlardan: {columns}; bilinmeyen: {unknown}',
  },
  NOT_CSV: { en: 'not valid CSV after line {line}: {reason}', tr: '{line}. satırdan sonra geçerli CSV değil: {reason}' },
  NOT_A_CUSTOMER: {
    en: 'is not a customer (a JSON object, or as many cells as the header)',
    tr: 'bir müşteri değil (bir JSON nesnesi, ya da başlıktaki kadar hücre)',
  },
} as const satisfies Record<string, Record<Locale, string>>;

type DetailKey = keyof typeof DETAILS;
type DetailParams = Record<string, string | number>;

// A keyed detail travels as "KEY" or "KEY {json params}" (a zod message is a string) until it is rendered.
const KEYED = /^([A-Z][A-Z_]*)(?: (\{.*\}))?$/;

/** A detail message by key: what a schema's check or an ErrorDetail carries until the answer renders it. */
export function detail(key: DetailKey, params?: DetailParams): string {
  return params === undefined ? key : `${key} ${JSON.stringify(params)}`;
}

/** A keyed detail message in `locale`, or undefined when `message` is not one (zod's own, a free text). */
export function renderDetail(message: string, locale: Locale): string | undefined {
  const match = KEYED.exec(message);
  if (!match || !Object.hasOwn(DETAILS, match[1]!)) return undefined;
  const params = match[2] === undefined ? {} : (JSON.parse(match[2]) as DetailParams);
  return DETAILS[match[1] as DetailKey][locale].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

/** Every detail key (for the test that each has both languages). */
export const DETAIL_KEYS = Object.keys(DETAILS) as DetailKey[];
