import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received span, flattened: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  serviceName: string | undefined;
}

// ---- OTLP/HTTP protobuf, read by hand: just the fields of opentelemetry/proto/trace/v1 used here ----

interface Field {
  no: number;
  wire: number;
  /** varint or fixed64 as a number; length-delimited as its bytes. */
  value: number | Buffer;
}

function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      yield { no, wire, value: buf.readDoubleLE(at) };
      at += 8;
    } else if (wire === 2) {
      const length = varint();
      yield { no, wire, value: buf.subarray(at, at + length) };
      at += length;
    } else if (wire === 5) at += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
}

const bytes = (f: Field) => f.value as Buffer;

function anyValue(buf: Buffer): string | number | boolean {
  for (const f of fields(buf)) {
    if (f.no === 1) return bytes(f).toString('utf8');
    if (f.no === 2) return f.value === 1;
    if (f.no === 3) return f.value as number;
    if (f.no === 4) return f.value as number;
  }
  return '';
}

function keyValues(list: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    let key = '';
    let value: string | number | boolean = '';
    for (const f of fields(kv)) {
      if (f.no === 1) key = bytes(f).toString('utf8');
      if (f.no === 2) value = anyValue(bytes(f));
    }
    out[key] = value;
  }
  return out;
}

function protobufSpans(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of fields(body)) {
    let serviceName: string | undefined;
    const scopes: Buffer[] = [];
    for (const f of fields(bytes(resourceSpans))) {
      if (f.no === 1) serviceName = String(keyValues([...fields(bytes(f))].filter((a) => a.no === 1).map(bytes))['service.name']);
      if (f.no === 2) scopes.push(bytes(f));
    }
    for (const scope of scopes) {
      for (const s of fields(scope)) {
        if (s.no !== 2) continue;
        const span: ReceivedSpan = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {}, events: [], statusCode: 0, serviceName };
        const attributes: Buffer[] = [];
        for (const f of fields(bytes(s))) {
          if (f.no === 1) span.traceId = bytes(f).toString('hex');
          else if (f.no === 2) span.spanId = bytes(f).toString('hex');
          else if (f.no === 4) span.parentSpanId = bytes(f).toString('hex');
          else if (f.no === 5) span.name = bytes(f).toString('utf8');
          else if (f.no === 6) span.kind = f.value as number;
          else if (f.no === 9) attributes.push(bytes(f));
          else if (f.no === 11) {
            const event = { name: '', attributes: [] as Buffer[] };
            for (const e of fields(bytes(f))) {
              if (e.no === 2) event.name = bytes(e).toString('utf8');
              if (e.no === 3) event.attributes.push(bytes(e));
            }
            span.events.push({ name: event.name, attributes: keyValues(event.attributes) });
          } else if (f.no === 15) for (const st of fields(bytes(f))) if (st.no === 3) span.statusCode = st.value as number;
        }
        span.attributes = keyValues(attributes);
        spans.push(span);
      }
    }
  }
  return spans;
}

// ---- OTLP/HTTP JSON ----

type JsonValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type JsonKeyValue = { key: string; value: JsonValue };
const jsonValue = (v: JsonValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ''));
const jsonAttributes = (list: JsonKeyValue[] = []) => Object.fromEntries(list.map((kv) => [kv.key, jsonValue(kv.value)]));

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number };
}

function jsonSpans(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as { resourceSpans: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans: { spans: JsonSpan[] }[] }[] };
  return request.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        kind: s.kind,
        attributes: jsonAttributes(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
        statusCode: s.status?.code ?? 0,
        serviceName: jsonAttributes(rs.resource?.attributes)['service.name'] as string | undefined,
      })),
    ),
  );
}

/**
 * An OTLP/HTTP receiver in the test process: takes POST /v1/traces in protobuf or JSON and keeps every
 * span, with the content types it was sent in.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = req.headers['content-type'] ?? '';
        this.contentTypes.add(type);
        const body = Buffer.concat(chunks);
        try {
          this.spans.push(...(type.includes('json') ? jsonSpans(body) : protobufSpans(body)));
          res.writeHead(200, { 'content-type': type }).end(type.includes('json') ? '{}' : '');
        } catch (err) {
          res.writeHead(400).end(String(err));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Waits (up to `ms`) until `done` holds over the spans received. */
  async waitFor(done: (spans: ReceivedSpan[]) => boolean, ms = 10_000): Promise<ReceivedSpan[]> {
    const until = Date.now() + ms;
    while (!done(this.spans)) {
      if (Date.now() > until) throw new Error(`the spans expected did not arrive; received: ${this.spans.map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.spans;
  }

  clear(): void {
    this.spans.length = 0;
    this.contentTypes.clear();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
