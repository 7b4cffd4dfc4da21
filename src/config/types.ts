/**
 * The validated, defaulted, frozen configuration (see schema.json, which documents every field).
 * File paths are absolute after loading.
 */
export type JwtAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

export interface Config {
  /** Absolute path of the file this came from (for error messages). */
  readonly file: string;
  /** SHA-256 of the file's bytes, base64url: named in the decision log's start lines. */
  readonly digest: string;
  readonly server: ServerConfig;
  readonly admin: AdminConfig;
  readonly identity: IdentityConfig;
  readonly payload: { readonly maxDepth: number };
  readonly functions: readonly FunctionConfig[];
  readonly upstream: { readonly headerPrefix: string; readonly removeHeaders: readonly string[]; readonly removeQueryParameters: readonly string[] };
  readonly decisionLog: DecisionLogConfig;
  readonly replay: ReplayConfig;
}

export interface ReplayConfig {
  readonly maxEntries: number;
  /** Absent: the in-memory store. */
  readonly redis?: RedisReplayConfig;
}

export interface RedisReplayConfig {
  /** `redis://` or `rediss://`, never with a password in it. */
  readonly url: string;
  /** Absolute after loading. */
  readonly passwordFile?: string;
  /** Absolute after loading. */
  readonly caFile?: string;
  readonly timeoutMs: number;
  readonly keyPrefix: string;
}

export interface DecisionLogConfig {
  readonly destination: string;
  readonly durability: 'written' | 'fsync' | 'buffered';
  readonly maxPendingBytes: number;
  readonly maxWriteMs: number;
  /** Used with a `relp+tls://` destination; files are absolute after loading. */
  readonly relp: RelpConfig;
  readonly rotate?: { readonly maxBytes?: number; readonly everySeconds?: number };
  /** `keyFile` is absolute after loading. */
  readonly checkpoint?: { readonly keyFile: string; readonly everyLines: number; readonly everySeconds: number };
}

export interface RelpConfig {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly serverName?: string;
  readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
}

export interface ServerConfig {
  readonly listen: string;
  readonly maxInFlight: number;
  readonly tls?: ServerTlsConfig;
}

export interface ServerTlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
  readonly clientCrl?: string;
  readonly clientSans: readonly string[];
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** AEAD suites only (the schema's enum), most preferred first. */
  readonly ciphers: readonly string[];
}

export interface AdminConfig {
  readonly enabled: boolean;
  /** host:port; loopback unless `allowNonLoopback` (check-semantics.ts). */
  readonly listen: string;
  readonly allowNonLoopback: boolean;
}

export interface IdentityConfig {
  readonly clockSkewSeconds: number;
  readonly maxTokenBytes: number;
  readonly tokenCacheSize: number;
  readonly issuers: readonly IssuerConfig[];
  readonly spiffe: { readonly trustDomains: readonly string[] };
  readonly apiKeys?: ApiKeysConfig;
  readonly saml: readonly SamlIdpConfig[];
  readonly dpop: { readonly algorithms: readonly string[]; readonly maxAgeSeconds: number };
}

export interface SamlIdpConfig {
  readonly name: string;
  /** Absolute after loading. */
  readonly metadataFile?: string;
  readonly metadataUrl?: string;
  readonly audiences: readonly string[];
  readonly groupsAttribute?: string;
  readonly maxLifetimeSeconds: number;
  readonly maxAssertionBytes: number;
  readonly fetch: FetchConfig;
}

export interface ApiKeysConfig {
  readonly name: string;
  /** Absolute after loading. */
  readonly file: string;
  readonly header?: string;
  readonly maxLifetimeDays: number;
  readonly warnBeforeDays: number;
  readonly reloadIntervalMs: number;
}

export interface IssuerConfig {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly JwtAlgorithm[];
  readonly groupsClaim: string;
  readonly maxTokenLifetimeSeconds: number;
  readonly tokenType?: string;
  readonly jwksUrl?: string;
  readonly discovery: boolean;
  readonly jwksFile?: string;
  readonly hmacSecretFile?: string;
  readonly fetch: FetchConfig;
}

export interface FetchConfig {
  readonly timeoutMs: number;
  readonly refreshSeconds: number;
  readonly unknownKidCooldownSeconds: number;
  readonly maxStaleSeconds: number;
}

export interface FunctionConfig {
  readonly name: string;
  readonly match?: { readonly method: string; readonly path: string; readonly logParams: readonly string[] };
  readonly requireMtls: boolean;
  /** `shadow`: decide and log (`would-deny`), let the call through (see the schema). */
  readonly mode: 'enforce' | 'shadow';
  readonly singleUse: boolean;
  readonly senderConstrained?: 'mtls' | 'dpop' | 'either';
  readonly allow: readonly AllowRule[];
  readonly input?: InputConfig;
  /** The function is an MCP server endpoint (see schema.json `mcp`); exclusive with `input`. */
  readonly mcp?: McpConfig;
}

export interface McpConfig {
  /** JSON-RPC methods allowed besides `tools/call` (which `tools` governs). */
  readonly methods: readonly string[];
  readonly tools: readonly McpToolConfig[];
  /** Where the tools' input schemas are listed (`tools/list`), for tools without a `schema` file. */
  readonly server?: McpServerConfig;
}

/** An MCP server callguard asks for `tools/list` directly, over TLS (paths resolved, absolute). */
export interface McpServerConfig {
  /** `https://HOST:PORT/PATH`: the server's MCP endpoint. */
  readonly url: string;
  /** PEM CA file the server's certificate must chain to. */
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  /** Name the server's certificate must carry (and SNI); default the URL's host. */
  readonly serverName?: string;
  /** Bound on the whole listing. */
  readonly timeoutMs: number;
  /** First retry after a failed listing, at start or on reload (doubling, at most 60 s). */
  readonly retryMs: number;
}

export interface McpToolConfig {
  readonly name: string;
  /** Who may call this tool (default deny), on top of the function's `allow`. */
  readonly allow: readonly AllowRule[];
  /** Absolute path of the JSON Schema file for `params.arguments`; absent: the schema `server` lists. */
  readonly schema?: string;
  readonly sensitive: readonly string[];
  readonly logFields: readonly string[];
}

export type ClaimValue = string | number | boolean;

export type AllowRule =
  | {
      /** Name of an identity source: a JWT issuer, a SAML IdP or the API key store. */
      readonly issuer: string;
      readonly subjects?: readonly string[];
      readonly groups?: readonly string[];
      readonly claims?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>>;
    }
  | { readonly spiffeIds: readonly string[] };

export interface InputConfig {
  readonly contentType: 'application/json' | 'application/grpc';
  /** Absolute path of the JSON Schema file. */
  readonly schema: string;
  readonly sensitive: readonly string[];
  readonly logFields: readonly string[];
  readonly grpc?: GrpcInputConfig;
}

export interface GrpcInputConfig {
  /** Absolute path of the FileDescriptorSet file. */
  readonly descriptorSet: string;
  readonly method: string;
  readonly unknownFields: 'deny' | 'allow';
  readonly maxMessages: number;
}
