/**
 * A lean reader for `envoy.service.auth.v3.CheckRequest` wire bytes that decodes only the fields
 * callguard reads (see {@link CheckRequestFacts}) and skips the rest without building it.
 *
 * Why not `fromBinary`: it builds every message of the request with all defaults, which was the
 * largest single cost on the allow path (~9 µs of callguard's ~40 µs in-process, ~12 % of CPU under
 * load). This reader produces a structural subset of the generated `CheckRequest`, so the same
 * `toCallAttempt` serves both, and a differential test holds it to `fromBinary`'s result.
 *
 * Semantics follow protobuf for the fields read: last value wins for scalars, repeated singular
 * messages merge, map entries default a missing key or value to "" and the last duplicate key wins,
 * a oneof keeps its last member, strings must be valid UTF-8. Stricter where Envoy never goes: any
 * field the schema knows arriving with another wire type (fromBinary would read it by its schema type
 * anyway), a group, or a truncated field throws (→ ERR_REQUEST_MALFORMED). The expected wire types
 * come from the generated descriptors, so they follow the protos. Skipped string fields are still
 * checked for UTF-8; skipped messages (metadata, labels, time) are not parsed at all, so malformed
 * content inside one of those is not refused as fromBinary would: callguard never reads them.
 * Field numbers are from envoy/service/auth/v3/{external_auth,attribute_context}.proto and
 * envoy/config/core/v3/{address,base}.proto.
 */

import { isUtf8 } from 'node:buffer';
import { type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { AddressSchema, SocketAddressSchema } from '../gen/envoy/config/core/v3/address_pb.js';
import { HeaderMapSchema, HeaderValueSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import {
  AttributeContext_HttpRequestSchema,
  AttributeContext_PeerSchema,
  AttributeContext_RequestSchema,
  AttributeContext_TLSSessionSchema,
  AttributeContextSchema,
} from '../gen/envoy/service/auth/v3/attribute_context_pb.js';
import { CheckRequestSchema } from '../gen/envoy/service/auth/v3/external_auth_pb.js';

/** What callguard reads from a CheckRequest; the generated `CheckRequest` type is assignable to it. */
export interface CheckRequestFacts {
  attributes?: AttributeFacts | undefined;
}

export interface AttributeFacts {
  source?: PeerFacts | undefined;
  destination?: PeerFacts | undefined;
  request?: { http?: HttpFacts | undefined } | undefined;
  contextExtensions: { [key: string]: string };
  tlsSession?: { sni: string } | undefined;
}

export interface PeerFacts {
  address?: { address: AddressCase } | undefined;
  principal: string;
  certificate: string;
}

export type AddressCase =
  | { case: 'socketAddress'; value: SocketAddressFacts }
  | { case: 'pipe' | 'envoyInternalAddress'; value?: unknown }
  | { case: undefined; value?: undefined };

export interface SocketAddressFacts {
  address: string;
  portSpecifier: { case: 'portValue'; value: number } | { case: 'namedPort'; value: string } | { case: undefined; value?: undefined };
}

export interface HttpFacts {
  id: string;
  method: string;
  /** Envoy's default shape: repeated headers joined with ',', invalid UTF-8 replaced by '!'. */
  headers: { [key: string]: string };
  /** `encode_raw_headers: true`: one entry per header line, raw bytes (then `headers` is empty). */
  headerMap?: HeaderMapFacts | undefined;
  path: string;
  host: string;
  body: string;
  rawBody: Uint8Array;
}

/** config.core.v3.HeaderMap: `repeated HeaderValue headers = 1`. */
export interface HeaderMapFacts {
  headers: HeaderValueFacts[];
}

/** config.core.v3.HeaderValue: `key = 1`, `value = 2` (string), `raw_value = 3` (bytes). */
export interface HeaderValueFacts {
  key: string;
  value: string;
  rawValue: Uint8Array;
}

/** Malformed wire data: a message for the operator's log, never request content. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/**
 * A message's fields, from its descriptor: number → wire type (lists are not checked: packed or not),
 * and which LEN fields are strings (skipped strings are still checked for UTF-8, as fromBinary does).
 */
interface WireTypes {
  readonly types: ReadonlyMap<number, number>;
  readonly strings: ReadonlySet<number>;
}

function wireTypes(desc: DescMessage): WireTypes {
  const types = new Map<number, number>();
  const strings = new Set<number>();
  for (const field of desc.fields) {
    if (field.fieldKind === 'message' || field.fieldKind === 'map') types.set(field.number, LEN);
    else if (field.fieldKind === 'enum') types.set(field.number, VARINT);
    else if (field.fieldKind === 'scalar') {
      types.set(field.number, scalarWireType(field.scalar));
      if (field.scalar === ScalarType.STRING) strings.add(field.number);
    }
  }
  return { types, strings };
}

function scalarWireType(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return FIXED64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return FIXED32;
    default:
      return VARINT;
  }
}

const CHECK_REQUEST = wireTypes(CheckRequestSchema);
const ATTRIBUTES = wireTypes(AttributeContextSchema);
const PEER = wireTypes(AttributeContext_PeerSchema);
const REQUEST = wireTypes(AttributeContext_RequestSchema);
const HTTP = wireTypes(AttributeContext_HttpRequestSchema);
const TLS_SESSION = wireTypes(AttributeContext_TLSSessionSchema);
const HEADER_MAP = wireTypes(HeaderMapSchema);
const HEADER_VALUE = wireTypes(HeaderValueSchema);
const ADDRESS = wireTypes(AddressSchema);
const SOCKET_ADDRESS = wireTypes(SocketAddressSchema);
/** map<string, string> entries: key = 1, value = 2. */
const MAP_ENTRY: WireTypes = {
  types: new Map([
    [1, LEN],
    [2, LEN],
  ]),
  strings: new Set([1, 2]),
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

/** Decodes the fields of {@link CheckRequestFacts}; throws {@link WireFormatError} on malformed input. */
export function readCheckRequest(bytes: Uint8Array): CheckRequestFacts {
  const r = new Reader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const request: CheckRequestFacts = {};
  while (r.more(bytes.length)) {
    const tag = r.tag();
    if (tag >>> 3 === 1) request.attributes = readAttributes(r, r.len(tag), request.attributes);
    else r.skip(tag, CHECK_REQUEST);
  }
  return request;
}

function readAttributes(r: Reader, end: number, into: AttributeFacts | undefined): AttributeFacts {
  const a: AttributeFacts = into ?? { contextExtensions: {} };
  while (r.more(end)) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        a.source = readPeer(r, r.len(tag), a.source);
        break;
      case 2:
        a.destination = readPeer(r, r.len(tag), a.destination);
        break;
      case 4:
        a.request = readRequest(r, r.len(tag), a.request);
        break;
      case 10:
        readMapEntry(r, r.len(tag), a.contextExtensions);
        break;
      case 12:
        a.tlsSession = readTlsSession(r, r.len(tag), a.tlsSession);
        break;
      default:
        r.skip(tag, ATTRIBUTES);
    }
  }
  return a;
}

function readPeer(r: Reader, end: number, into: PeerFacts | undefined): PeerFacts {
  const p: PeerFacts = into ?? { principal: '', certificate: '' };
  while (r.more(end)) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        p.address = readAddress(r, r.len(tag), p.address);
        break;
      case 4:
        p.principal = r.string(tag);
        break;
      case 5:
        p.certificate = r.certificate(tag);
        break;
      default:
        r.skip(tag, PEER);
    }
  }
  return p;
}

/** config.core.v3.Address: oneof address { socket_address = 1; pipe = 2; envoy_internal_address = 3; }. */
function readAddress(r: Reader, end: number, into: { address: AddressCase } | undefined): { address: AddressCase } {
  const a = into ?? { address: { case: undefined } };
  while (r.more(end)) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      const current = a.address.case === 'socketAddress' ? a.address.value : undefined;
      a.address = { case: 'socketAddress', value: readSocketAddress(r, r.len(tag), current) };
    } else if (field === 2 || field === 3) {
      r.skipTo(r.len(tag));
      a.address = { case: field === 2 ? 'pipe' : 'envoyInternalAddress' };
    } else {
      r.skip(tag, ADDRESS);
    }
  }
  return a;
}

/** SocketAddress: address = 2; oneof port_specifier { uint32 port_value = 3; string named_port = 4; }. */
function readSocketAddress(r: Reader, end: number, into: SocketAddressFacts | undefined): SocketAddressFacts {
  const s: SocketAddressFacts = into ?? { address: '', portSpecifier: { case: undefined } };
  while (r.more(end)) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 2) s.address = r.string(tag);
    else if (field === 3) s.portSpecifier = { case: 'portValue', value: r.uint32(tag) };
    else if (field === 4) s.portSpecifier = { case: 'namedPort', value: r.string(tag) };
    else r.skip(tag, SOCKET_ADDRESS);
  }
  return s;
}

function readRequest(r: Reader, end: number, into: { http?: HttpFacts | undefined } | undefined): { http?: HttpFacts | undefined } {
  const q = into ?? {};
  while (r.more(end)) {
    const tag = r.tag();
    if (tag >>> 3 === 2) q.http = readHttp(r, r.len(tag), q.http);
    else r.skip(tag, REQUEST);
  }
  return q;
}

function readHttp(r: Reader, end: number, into: HttpFacts | undefined): HttpFacts {
  const h: HttpFacts = into ?? { id: '', method: '', headers: {}, path: '', host: '', body: '', rawBody: EMPTY };
  while (r.more(end)) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        h.id = r.string(tag);
        break;
      case 2:
        h.method = r.string(tag);
        break;
      case 3:
        readMapEntry(r, r.len(tag), h.headers);
        break;
      case 4:
        h.path = r.string(tag);
        break;
      case 5:
        h.host = r.string(tag);
        break;
      case 11:
        h.body = r.string(tag);
        break;
      case 12:
        h.rawBody = r.bytes(tag);
        break;
      case 13:
        h.headerMap = readHeaderMap(r, r.len(tag), h.headerMap);
        break;
      default:
        r.skip(tag, HTTP);
    }
  }
  return h;
}

/** A HeaderMap sent in parts merges as protobuf does: the repeated entries of each part, in order. */
function readHeaderMap(r: Reader, end: number, into: HeaderMapFacts | undefined): HeaderMapFacts {
  const m = into ?? { headers: [] };
  while (r.more(end)) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.headers.push(readHeaderValue(r, r.len(tag)));
    else r.skip(tag, HEADER_MAP);
  }
  return m;
}

function readHeaderValue(r: Reader, end: number): HeaderValueFacts {
  const v: HeaderValueFacts = { key: '', value: '', rawValue: EMPTY };
  while (r.more(end)) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        v.key = r.key(tag);
        break;
      case 2:
        v.value = r.string(tag);
        break;
      case 3:
        v.rawValue = r.bytes(tag);
        break;
      default:
        r.skip(tag, HEADER_VALUE);
    }
  }
  return v;
}

function readTlsSession(r: Reader, end: number, into: { sni: string } | undefined): { sni: string } {
  const t = into ?? { sni: '' };
  while (r.more(end)) {
    const tag = r.tag();
    if (tag >>> 3 === 1) t.sni = r.string(tag);
    else r.skip(tag, TLS_SESSION);
  }
  return t;
}

/** map<string, string> entry: key = 1, value = 2. */
function readMapEntry(r: Reader, end: number, map: { [key: string]: string }): void {
  let key = '';
  let value = '';
  while (r.more(end)) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) key = r.key(tag);
    else if (field === 2) value = r.string(tag);
    else r.skip(tag, MAP_ENTRY);
  }
  // Own data property even for "__proto__" (like fromBinary), never a prototype change.
  if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  /** True while fields remain before `end`; throws if a field ran past it. */
  more(end: number): boolean {
    if (this.pos < end) return true;
    if (this.pos > end) throw new WireFormatError('field overruns its message');
    return false;
  }

  /** A field tag: field number ≥ 1 and wire type. */
  tag(): number {
    const tag = this.varint();
    if (tag >>> 3 === 0) throw new WireFormatError('field number 0');
    return tag;
  }

  /** A varint of up to 32 significant bits (tags, lengths, uint32); longer encodings are refused. */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= buf.length) throw new WireFormatError('truncated varint');
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let result = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 5; i++) {
      if (pos >= buf.length) throw new WireFormatError('truncated varint');
      b = buf[pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > 0xffffffff) break;
        this.pos = pos;
        return result;
      }
      scale *= 0x80;
    }
    // uint32 values and lengths fit in five bytes; protobuf writes them that way.
    throw new WireFormatError('varint longer than 32 bits');
  }

  /** Length of the LEN field `tag` introduces; returns its end offset. */
  len(tag: number): number {
    if ((tag & 7) !== LEN) throw new WireFormatError(`field ${tag >>> 3} has wire type ${tag & 7}, expected length-delimited`);
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.buf.length) throw new WireFormatError('length-delimited field runs past the end');
    return end;
  }

  string(tag: number): string {
    const end = this.len(tag);
    return this.stringAt(this.pos, end);
  }

  private stringAt(start: number, end: number): string {
    this.pos = end;
    const buf = this.buf;
    if (end - start <= SHORT_STRING) {
      // Short strings (most header names and values): a JS loop beats a native call's overhead.
      let s = '';
      for (let i = start; i < end; i++) {
        const b = buf[i] as number;
        if (b > 0x7f) return decodeUtf8(buf, start, end);
        s += String.fromCharCode(b);
      }
      return s;
    }
    return decodeUtf8(buf, start, end);
  }

  /**
   * A map key. Header names repeat on every request: the string made for a name last time is reused
   * when the bytes match (compared in full), which saves building and internalizing a new key string
   * per header per call. A small direct-mapped table, so memory stays bounded whatever callers send.
   */
  key(tag: number): string {
    const end = this.len(tag);
    const start = this.pos;
    const length = end - start;
    if (length === 0 || length > MAX_INTERNED_KEY) return this.stringAt(start, end);
    const buf = this.buf;
    const slot = (length * 31 + (buf[start] as number) * 7 + (buf[end - 1] as number) * 3 + (buf[start + (length >> 1)] as number)) & (KEY_SLOTS - 1);
    const known = interned[slot];
    if (known !== undefined && known.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (known.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos = end;
        return known;
      }
    }
    const key = this.stringAt(start, end);
    // Only ASCII keys are interned: then one byte is one UTF-16 unit and the comparison above is exact.
    if (key.length === length) interned[slot] = key;
    return key;
  }

  /**
   * The peer certificate (URL-encoded PEM, ~1–2 KB): callers reuse a handful of certificates, so the
   * string made for the same bytes last time is returned (bytes compared in full, natively). The same
   * string instance also keeps its hash for the decoded-certificate cache in toCallAttempt.
   * Certificates are public; no secret is ever compared here.
   */
  certificate(tag: number): string {
    const end = this.len(tag);
    const start = this.pos;
    for (const known of recentCertificates) {
      if (known.bytes.length === end - start && known.bytes.compare(this.buf, start, end) === 0) {
        this.pos = end;
        return known.text;
      }
    }
    const text = this.stringAt(start, end);
    recentCertificates[nextCertificateSlot] = { bytes: Buffer.from(this.buf.subarray(start, end)), text };
    nextCertificateSlot = (nextCertificateSlot + 1) % CERTIFICATE_SLOTS;
    return text;
  }

  bytes(tag: number): Uint8Array {
    const end = this.len(tag);
    const start = this.pos;
    this.pos = end;
    // A plain Uint8Array view (no copy), as fromBinary returns.
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, end - start);
  }

  uint32(tag: number): number {
    if ((tag & 7) !== VARINT) throw new WireFormatError(`field ${tag >>> 3} has wire type ${tag & 7}, expected varint`);
    return this.varintLow32();
  }

  /** Any varint, up to 10 bytes; its low 32 bits (how protobuf reads a uint32 written wider). */
  private varintLow32(): number {
    const buf = this.buf;
    let low = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw new WireFormatError('truncated varint');
      const b = buf[this.pos++] as number;
      if (i < 5) low += (b & 0x7f) * scale;
      scale *= 0x80;
      if (b < 0x80) return low % 0x100000000;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  skipTo(end: number): void {
    this.pos = end;
  }

  /**
   * Skips a field callguard does not read. A field the message's schema knows must carry its schema
   * wire type; groups (deprecated, never sent by Envoy) are refused.
   */
  skip(tag: number, known: WireTypes): void {
    const expected = known.types.get(tag >>> 3);
    if (expected !== undefined && expected !== (tag & 7)) {
      throw new WireFormatError(`field ${tag >>> 3} has wire type ${tag & 7}, expected ${expected}`);
    }
    switch (tag & 7) {
      case VARINT:
        this.varintLow32();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LEN: {
        const end = this.len(tag);
        if (known.strings.has(tag >>> 3) && !isUtf8(this.buf.subarray(this.pos, end))) {
          throw new WireFormatError(`string field ${tag >>> 3} is not valid UTF-8`);
        }
        this.pos = end;
        return;
      }
      case FIXED32:
        this.advance(4);
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${tag & 7} (field ${tag >>> 3})`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireFormatError('fixed-width field runs past the end');
    this.pos += n;
  }
}

const CERTIFICATE_SLOTS = 8;
const recentCertificates: { bytes: Buffer; text: string }[] = [];
let nextCertificateSlot = 0;
const KEY_SLOTS = 256;
const MAX_INTERNED_KEY = 64;
const interned: (string | undefined)[] = new Array(KEY_SLOTS).fill(undefined);

/** Strings up to this many bytes are built in JS; longer ones by the native UTF-8 decoder. */
const SHORT_STRING = 16;

/**
 * Strict UTF-8 (proto3 strings must be valid UTF-8, as fromBinary checks). Decoded by Buffer's own
 * slice (no view object, no TextDecoder call); only a result holding U+FFFD, which is either in the
 * input or stands for invalid bytes, is decoded again strictly to tell which.
 */
function decodeUtf8(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  if (!text.includes('\uFFFD')) return text;
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw new WireFormatError('string field is not valid UTF-8');
  }
}
