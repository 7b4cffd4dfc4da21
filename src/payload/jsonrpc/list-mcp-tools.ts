import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { McpServerConfig } from '../../config/types.js';
import { printableAscii } from '../../printable-ascii.js';
import { TLS_PROFILE } from '../../transport/tls-profile.js';
import { createMcpHttpsPeer, describeTransportError, type McpHttpsPeer, TransportFailure } from './mcp-https-peer.js';
import { isObject } from './parse-jsonrpc.js';
import { drainCapped, Refusal, readJsonRpcResult, refuseStatus } from './read-jsonrpc-answer.js';

/**
 * Lists an MCP server's tools with their input schemas (`functions[].mcp.server`): the schemas
 * callguard validates `tools/call` arguments against when no schema file is configured.
 *
 * One short-lived MCP client session over streamable HTTP (MCP 2025-11-25, basic/lifecycle and
 * basic/transports): POST `initialize`, POST `notifications/initialized`, POST `tools/list` page by
 * page (`nextCursor`, server/tools §"Pagination"), then DELETE of the session, if the server made one
 * (best effort: a server MAY answer 405). The session id and the negotiated protocol version are sent
 * on every request after `initialize`.
 *
 * Why this strict: the listing becomes policy. What the server lists decides which arguments reach
 * the tool, so an answer two readers could read differently (duplicate keys, a name listed twice, a
 * cursor that loops) is refused, not guessed at; bodies, pages and tools are bounded; redirects are
 * not followed (the configured URL is the only peer); TLS is callguard's profile with the configured
 * CA only (mcp-https-peer.ts). The whole listing is bounded by `timeoutMs`, and no socket outlives it.
 * Every failure is one ListToolsError whose message is safe to log: the URL, the step and why,
 * never a body (only a JSON-RPC error's code and its message cut to 200 printable ASCII characters).
 *
 * Taken as the spec's schema.ts has it, as the SDK's client does: a tool's `inputSchema` must be an
 * object with `type: "object"`; a `nextCursor` of null ends the list like an absent one (serializers
 * that keep nulls exist); a server must declare the `tools` capability in `initialize`.
 */

export interface ListedTool {
  readonly name: string;
  /** The tool's `inputSchema` as listed (parsed strictly: duplicate keys refused). Not frozen: never mutate it, `digest` names it. */
  readonly inputSchema: unknown;
  /** SHA-256 (base64url) of JSON.stringify(inputSchema): names the schema in the policy digest. */
  readonly digest: string;
}

/** Where a listing failed: reading the TLS files, reaching the server (TCP/TLS), or a protocol step. */
export type ListToolsStep = 'tls-files' | 'connect' | 'initialize' | 'initialized' | 'tools/list';

/** A listing failed; `message` is `${url} ${step}: ${why}` and safe to log. */
export class ListToolsError extends Error {
  override readonly name = 'ListToolsError';
  constructor(
    readonly url: string,
    readonly step: ListToolsStep,
    readonly why: string,
  ) {
    super(`${url} ${step}: ${why}`);
  }
}

/** The MCP revision asked for: the newest the SDK callguard tests against (1.32) knows. */
export const MCP_PROTOCOL_VERSION = '2025-11-25';
/** Revisions a server may answer with (the SDK's SUPPORTED_PROTOCOL_VERSIONS); any other is refused (basic/lifecycle §"Version Negotiation"). */
export const KNOWN_MCP_PROTOCOL_VERSIONS: readonly string[] = Object.freeze(['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07']);
/** Bounds on one listing. */
export const LIST_LIMITS = Object.freeze({ pages: 100, tools: 10_000, schemaBytes: 16 * 1024 * 1024 });

const CLIENT_INFO = Object.freeze({ name: 'callguard', version: '0.1.0' });
const TIMED_OUT = Symbol('timed out');
// MCP transports §"Session Management": a session id holds visible ASCII only (0x21 to 0x7E).
const SESSION_ID = /^[\x21-\x7e]+$/;

/** Lists every tool of the MCP server; rejects with a ListToolsError (log-safe message) on any problem. */
export async function listMcpTools(server: McpServerConfig, options: { readonly signal?: AbortSignal } = {}): Promise<ReadonlyMap<string, ListedTool>> {
  const url = new URL(server.url);
  const secureContext = await loadSecureContext(server);
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(TIMED_OUT), server.timeoutMs);
  const signal = options.signal === undefined ? timer.signal : AbortSignal.any([timer.signal, options.signal]);
  const peer = createMcpHttpsPeer(url, secureContext, server.serverName ?? url.hostname.replace(/^\[(.*)\]$/, '$1'), signal);
  const session: Session = { peer, step: 'initialize', answered: false, nextId: 0, headers: {} };
  try {
    await initialize(session);
    session.step = 'initialized';
    await notifyInitialized(session);
    session.step = 'tools/list';
    return await listAllTools(session);
  } catch (err) {
    throw toListToolsError(server, session, signal, err);
  } finally {
    await endSession(session, signal);
    clearTimeout(timeout);
    peer.close();
  }
}

interface Session {
  readonly peer: McpHttpsPeer;
  step: Exclude<ListToolsStep, 'tls-files' | 'connect'>;
  /** Some response arrived: later transport failures belong to a step, not to connecting. */
  answered: boolean;
  nextId: number;
  /** `mcp-session-id` and `mcp-protocol-version` once initialized. */
  headers: Record<string, string>;
}

/** basic/lifecycle §"Initialization": the version asked for, no client capabilities (a listing needs none). */
async function initialize(session: Session): Promise<void> {
  const params = { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO };
  const result = await call(session, 'initialize', params, (res) => {
    const id = res.headers['mcp-session-id'];
    if (id === undefined) return;
    if (typeof id !== 'string' || !SESSION_ID.test(id)) throw new Refusal('the mcp-session-id header is not visible ASCII');
    session.headers['mcp-session-id'] = id;
  });
  const version = result.protocolVersion;
  if (typeof version !== 'string' || !KNOWN_MCP_PROTOCOL_VERSIONS.includes(version)) {
    throw new Refusal(`the server answered protocol version ${JSON.stringify(printableAscii(String(version)))}, which callguard does not know`);
  }
  // server/tools §"Capabilities": a server that supports tools MUST declare the capability.
  if (!isObject(result.capabilities) || !isObject(result.capabilities.tools)) throw new Refusal('the server does not declare the tools capability');
  session.headers['mcp-protocol-version'] = version;
}

/** A notification gets 202 Accepted (transports §"Sending Messages"); 200 and 204 are taken too. */
async function notifyInitialized(session: Session): Promise<void> {
  const res = await session.peer.send('POST', postHeaders(session), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  session.answered = true;
  if (res.statusCode !== 202 && res.statusCode !== 200 && res.statusCode !== 204) throw refuseStatus(res);
  await drainCapped(res);
}

async function listAllTools(session: Session): Promise<ReadonlyMap<string, ListedTool>> {
  const tools = new Map<string, ListedTool>();
  const cursors = new Set<string>();
  // Each answer is capped; so is what the whole listing keeps (every page's schemas, held in memory).
  let schemaBytes = 0;
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    if (page > LIST_LIMITS.pages) throw new Refusal(`more than ${LIST_LIMITS.pages} pages`);
    const result = await call(session, 'tools/list', cursor === undefined ? undefined : { cursor });
    if (!Array.isArray(result.tools)) throw new Refusal(`page ${page}: tools is not an array`);
    for (const [index, entry] of result.tools.entries()) {
      const tool = toListedTool(entry, `page ${page} tools[${index}]`);
      if (tools.has(tool.name)) throw new Refusal(`tool ${quoted(tool.name)} is listed twice`);
      if (tools.size === LIST_LIMITS.tools) throw new Refusal(`more than ${LIST_LIMITS.tools} tools`);
      schemaBytes += tool.bytes;
      if (schemaBytes > LIST_LIMITS.schemaBytes) throw new Refusal(`the input schemas exceed ${LIST_LIMITS.schemaBytes} bytes in all`);
      tools.set(tool.name, Object.freeze({ name: tool.name, inputSchema: tool.inputSchema, digest: tool.digest }));
    }
    const next = result.nextCursor;
    if (next === undefined || next === null) return tools;
    if (typeof next !== 'string') throw new Refusal(`page ${page}: nextCursor is not a string`);
    if (cursors.has(next)) throw new Refusal(`page ${page}: the server returned a cursor it returned before (a loop)`);
    cursors.add(next);
    cursor = next;
  }
}

/** server/tools §"Tool": a unique `name` and an `inputSchema` that is a JSON Schema object of `type: "object"`. */
function toListedTool(entry: unknown, where: string): ListedTool & { readonly bytes: number } {
  if (!isObject(entry)) throw new Refusal(`${where} is not an object`);
  const { name, inputSchema } = entry;
  if (typeof name !== 'string' || name === '') throw new Refusal(`${where} has no name (a non-empty string)`);
  if (!isObject(inputSchema)) throw new Refusal(`tool ${quoted(name)}: inputSchema is not an object`);
  if (inputSchema.type !== 'object') throw new Refusal(`tool ${quoted(name)}: inputSchema.type is not "object"`);
  const text = JSON.stringify(inputSchema);
  const digest = createHash('sha256').update(text).digest('base64url');
  return Object.freeze({ name, inputSchema, digest, bytes: Buffer.byteLength(text) });
}

/** POSTs one request and returns its `result`; `onResponse` sees the response headers first. */
async function call(
  session: Session,
  method: string,
  params: object | undefined,
  onResponse?: (res: IncomingMessage) => void,
): Promise<Record<string, unknown>> {
  const id = ++session.nextId;
  const body = JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
  const res = await session.peer.send('POST', postHeaders(session), body);
  session.answered = true;
  if (res.statusCode === 200) onResponse?.(res);
  return await readJsonRpcResult(res, id);
}

function postHeaders(session: Session): OutgoingHttpHeaders {
  // transports §"Sending Messages": the client MUST accept both answer forms.
  return { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...session.headers };
}

/** transports §"Session Management": DELETE ends the session; any answer, 405 included, or none will do. */
async function endSession(session: Session, signal: AbortSignal): Promise<void> {
  if (session.headers['mcp-session-id'] === undefined || signal.aborted) return;
  try {
    const res = await session.peer.send('DELETE', session.headers);
    res.resume();
    await new Promise((resolve) => res.once('close', resolve));
  } catch {
    // Best effort: the listing stands; peer.close() destroys whatever is left.
  }
}

async function loadSecureContext(server: McpServerConfig): Promise<SecureContext> {
  const fail = (why: string) => new ListToolsError(server.url, 'tls-files', why);
  if ((server.cert === undefined) !== (server.key === undefined)) throw fail('cert and key go together: give both or neither');
  const read = async (label: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw fail(`cannot read the ${label} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('ca', server.ca), read('cert', server.cert), read('key', server.key)]);
  try {
    // Node ignores a `ca` without certificates, which would leave nothing to trust: say so instead.
    new X509Certificate(ca as Buffer);
  } catch {
    throw fail(`the ca file ${server.ca} holds no PEM certificate`);
  }
  try {
    const tls = { ca, minVersion: 'TLSv1.2', ciphers: TLS_PROFILE.nodeCiphers.join(':') } as const;
    return createSecureContext(cert === undefined ? tls : { ...tls, cert, key });
  } catch (err) {
    throw fail(`the cert and key files ${server.cert} and ${server.key} are not usable: ${describeTransportError(err as NodeJS.ErrnoException)}`);
  }
}

/** The one place a failure becomes a ListToolsError. */
function toListToolsError(server: McpServerConfig, session: Session, signal: AbortSignal, err: unknown): ListToolsError {
  // Before any response and any TLS handshake, nothing but connecting was in progress.
  const step: ListToolsStep = session.answered || (session.peer.connected && !(err instanceof TransportFailure)) ? session.step : 'connect';
  if (signal.aborted) {
    return new ListToolsError(server.url, step, signal.reason === TIMED_OUT ? `timed out after ${server.timeoutMs} ms` : 'aborted');
  }
  if (err instanceof Refusal || err instanceof TransportFailure) return new ListToolsError(server.url, step, err.why);
  // A connection lost while a body was read (reset, premature close).
  const why = err instanceof Error ? describeTransportError(err as NodeJS.ErrnoException) : 'unexpected failure';
  return new ListToolsError(server.url, step, `connection failed: ${why}`);
}

function quoted(name: string): string {
  return JSON.stringify(printableAscii(name));
}
