import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { parseDocument } from 'yaml';
import { toProblems } from '../config/load-config.js';
import type { Config } from '../config/types.js';
import { type ConfigProblem, REASONS } from '../errors.js';
import casesSchema from './cases.schema.json' with { type: 'json' };

/** A cases file as cases.schema.json describes it, defaults filled in and file paths absolute. */
export interface CasesFile {
  readonly file: string;
  /** The frozen clock, milliseconds since the epoch. */
  readonly nowMs: number;
  readonly cases: readonly TestCase[];
}

export interface TestCase {
  readonly name: string;
  readonly request: CaseRequest;
  readonly tls: boolean;
  readonly caller?: CaseCaller;
  readonly expect: CaseExpectation;
}

export interface CaseRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly bodyFile?: string;
}

export interface CaseCaller {
  readonly jwt?: Readonly<Record<string, unknown>> & { readonly iss: string; readonly sub: string };
  readonly apiKey?: { readonly id: string; readonly owner: string; readonly groups: readonly string[]; readonly functions?: readonly string[] };
  readonly saml?: { readonly idp: string; readonly issuer?: string; readonly nameId: string; readonly attributes: Readonly<Record<string, readonly string[]>> };
  readonly peer?: CasePeer;
}

export interface CasePeer {
  readonly spiffeId?: string;
  readonly certificate?: { readonly uriSans: readonly string[]; readonly ca: boolean };
  readonly certificateFile?: string;
}

export type Outcome = 'allow' | 'deny' | 'would-deny';

export interface CaseExpectation {
  readonly outcome: Outcome;
  readonly status?: number;
  readonly code?: string;
  readonly violations?: readonly { readonly pointer: string; readonly keyword?: string }[];
  readonly upstreamHeaders?: Readonly<Record<string, string | null>>;
  readonly removedHeaders?: readonly string[];
}

const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
formatsPlugin.default(ajv);
const validateShape = ajv.compile(casesSchema);
const validateCase = ajv.getSchema(`${casesSchema.$id}#/$defs/case`) as ValidateFunction;

/** Authorization schemes of the credentials a case gives as `caller` (the server's authenticators answer to these). */
const CREDENTIAL_SCHEMES = new Set(['bearer', 'dpop', 'apikey', 'saml']);

/**
 * Reads and checks a cases file against cases.schema.json, then against `config` (the issuers, IdPs and
 * key store a caller names, files it names, reason codes): every problem at once, naming the file and
 * the key path. `startMs` is the clock when the file gives no `now`.
 */
export function loadCases(file: string, config: Config, startMs: number): { ok: true; value: CasesFile } | { ok: false; problems: ConfigProblem[] } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file: path, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }] };
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const line = (offset: number): number => text.slice(0, offset).split('\n').length;
    return { ok: false, problems: doc.errors.map((e) => ({ file: path, path: '', message: `YAML (line ${line(e.pos[0])}): ${e.message.split('\n')[0]}` })) };
  }
  const raw: unknown = doc.toJS() ?? {};
  const problems = validateShape(raw) ? [] : toProblems(path, (validateShape.errors ?? []).map(explainNot));
  const parsed = raw as { now?: string; cases?: unknown };
  const base = dirname(path);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  // Every case of a valid shape is also checked against the config, so one run lists every problem of the file.
  const cases = (Array.isArray(parsed.cases) ? parsed.cases : []).map((c: unknown) => (validateCase(c) ? withAbsolutePaths(c as TestCase, abs) : undefined));
  const names = new Map<string, number>();
  cases.forEach((c, i) => {
    if (c === undefined) return;
    problems.push(...caseProblems(c, `/cases/${i}`, config, path));
    const first = names.get(c.name);
    if (first !== undefined) problems.push({ file: path, path: `/cases/${i}/name`, message: `"${c.name}" is also the name of /cases/${first}` });
    else names.set(c.name, i);
  });
  if (problems.length > 0) return { ok: false, problems };
  const valid = cases as TestCase[];
  return { ok: true, value: { file: path, nowMs: parsed.now === undefined ? startMs : Date.parse(parsed.now), cases: valid } };
}

/** Ajv says "must NOT be valid" for a `not`; the schema uses it for one thing in each place. */
function explainNot(e: ErrorObject): ErrorObject {
  if (e.keyword !== 'not') return e;
  const message = e.instancePath.endsWith('/request') ? 'give body or bodyFile, not both' : 'give at most one credential: jwt, apiKey or saml';
  return { ...e, message };
}

function withAbsolutePaths(c: TestCase, abs: (p: string) => string): TestCase {
  const request = c.request.bodyFile === undefined ? c.request : { ...c.request, bodyFile: abs(c.request.bodyFile) };
  const certificateFile = c.caller?.peer?.certificateFile;
  const caller = certificateFile === undefined || c.caller === undefined ? c.caller : { ...c.caller, peer: { certificateFile: abs(certificateFile) } };
  return { ...c, request, ...(caller !== undefined ? { caller } : {}) };
}

/** What the schema cannot say: names the config must know, files that must be readable, expectations that can hold. */
function caseProblems(c: TestCase, at: string, config: Config, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (path: string, message: string): void => {
    problems.push({ file, path: `${at}${path}`, message });
  };
  const { identity } = config;
  const { caller, request, expect } = c;
  if (caller?.jwt !== undefined && !identity.issuers.some((i) => i.issuer === caller.jwt?.iss)) {
    problem(
      '/caller/jwt/iss',
      `no configured issuer has issuer "${caller.jwt.iss}" (configured: ${identity.issuers.map((i) => i.issuer).join(', ') || 'none'})`,
    );
  }
  if (caller?.saml !== undefined && !identity.saml.some((idp) => idp.name === caller.saml?.idp)) {
    problem('/caller/saml/idp', `no identity.saml entry is named "${caller.saml.idp}" (configured: ${identity.saml.map((i) => i.name).join(', ') || 'none'})`);
  }
  if (caller?.apiKey !== undefined && identity.apiKeys === undefined) problem('/caller/apiKey', 'the config has no API key store (identity.apiKeys)');
  if (caller?.peer !== undefined && !c.tls) problem('/caller/peer', 'a client certificate needs TLS (tls: false)');
  const headers = Object.keys(request.headers ?? {}).map((h) => h.toLowerCase());
  const credentialHeaders = ['dpop', ...(identity.apiKeys?.header !== undefined ? [identity.apiKeys.header] : [])];
  for (const name of headers.filter((h) => credentialHeaders.includes(h))) {
    problem(`/request/headers/${name}`, 'a credential is given as caller (jwt, apiKey or saml), not as a header');
  }
  const authorization = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  if (authorization !== undefined && CREDENTIAL_SCHEMES.has(authorization.split(' ')[0]?.toLowerCase() ?? '')) {
    problem('/request/headers/authorization', 'a credential is given as caller (jwt, apiKey or saml), not as a header');
  } else if (authorization !== undefined && (caller?.jwt ?? caller?.apiKey ?? caller?.saml) !== undefined) {
    problem('/request/headers/authorization', "the caller's credential is sent in this header: give one or the other");
  }
  for (const [path, name] of [
    ['/request/bodyFile', request.bodyFile],
    ['/caller/peer/certificateFile', caller?.peer?.certificateFile],
  ] as const) {
    if (name === undefined) continue;
    try {
      readFileSync(name);
    } catch (err) {
      problem(path, `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (expect.code !== undefined && !Object.hasOwn(REASONS, expect.code)) problem('/expect/code', `"${expect.code}" is not a reason code`);
  if (expect.outcome === 'allow') {
    if (expect.code !== undefined) problem('/expect/code', 'an allowed call has no reason code');
    if (expect.status !== undefined && expect.status !== 200) problem('/expect/status', 'an allowed call is answered 200');
    if (expect.violations !== undefined && expect.violations.length > 0) problem('/expect/violations', 'an allowed call has no violations');
  }
  if (expect.outcome === 'deny' && (expect.upstreamHeaders !== undefined || expect.removedHeaders !== undefined)) {
    problem(expect.upstreamHeaders !== undefined ? '/expect/upstreamHeaders' : '/expect/removedHeaders', 'a denied call goes nowhere upstream');
  }
  return problems;
}
