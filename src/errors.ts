/**
 * Stable reason codes. Every denial carries exactly one primary code; the README's
 * reason-code table and {@link REASONS} are kept in step by a test.
 */
export type ReasonCode =
  // transport
  | 'ERR_TLS_REQUIRED'
  | 'ERR_MTLS_REQUIRED'
  | 'ERR_PEER_INVALID'
  | 'ERR_PEER_UNTRUSTED'
  // routing
  | 'ERR_FUNCTION_UNKNOWN'
  // identity
  | 'ERR_CREDENTIAL_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_ALGORITHM'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_LIFETIME'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_KEY_UNKNOWN'
  | 'ERR_KEYS_UNAVAILABLE'
  | 'ERR_CREDENTIAL_SCHEME'
  | 'ERR_CREDENTIAL_AMBIGUOUS'
  | 'ERR_CREDENTIAL_NOT_ACCEPTED'
  | 'ERR_CREDENTIAL_REUSABLE'
  | 'ERR_TOKEN_REPLAYED'
  | 'ERR_TOKEN_BINDING'
  | 'ERR_DPOP_PROOF'
  | 'ERR_REPLAY_UNAVAILABLE'
  | 'ERR_API_KEY_MALFORMED'
  | 'ERR_API_KEY_UNKNOWN'
  | 'ERR_API_KEY_EXPIRED'
  | 'ERR_API_KEY_REVOKED'
  | 'ERR_SAML_MALFORMED'
  | 'ERR_SAML_SIGNATURE'
  | 'ERR_SAML_ISSUER'
  | 'ERR_SAML_AUDIENCE'
  | 'ERR_SAML_EXPIRED'
  | 'ERR_SAML_NOT_YET_VALID'
  | 'ERR_SAML_CONFIRMATION'
  | 'ERR_SAML_LIFETIME'
  // authorization
  | 'ERR_NOT_PERMITTED'
  // payload
  | 'ERR_BODY_PARTIAL'
  | 'ERR_BODY_MISSING'
  | 'ERR_CONTENT_TYPE'
  | 'ERR_BODY_INVALID_JSON'
  | 'ERR_BODY_SCHEMA'
  | 'ERR_BODY_GRPC_FRAME'
  | 'ERR_BODY_GRPC_MESSAGE'
  | 'ERR_BODY_SCHEMA_FAULT'
  // payload: JSON-RPC / MCP
  | 'ERR_JSONRPC_INVALID'
  | 'ERR_JSONRPC_BATCH'
  | 'ERR_MCP_HTTP_METHOD'
  | 'ERR_MCP_METHOD'
  | 'ERR_MCP_METHOD_CASE'
  | 'ERR_MCP_TOOL_UNKNOWN'
  | 'ERR_MCP_TOOL_CONFUSABLE'
  | 'ERR_MCP_TOOLS_UNAVAILABLE'
  // adapter / internal
  | 'ERR_CALLER_UNTRUSTED'
  | 'ERR_DECISION_LOG_UNAVAILABLE'
  | 'ERR_OVERLOADED'
  | 'ERR_HEADER_INVALID'
  | 'ERR_REQUEST_MALFORMED'
  | 'ERR_QUERY_ENCODED_NAME'
  | 'ERR_INTERNAL';

export interface ReasonInfo {
  /** HTTP status the caller receives. */
  readonly status: number;
  /** Public title (RFC 9457 `title`); never contains request data. */
  readonly title: string;
}

/** code → HTTP status and public title: the one table (README documents it, a test checks both). */
export const REASONS: Readonly<Record<ReasonCode, ReasonInfo>> = Object.freeze({
  ERR_TLS_REQUIRED: { status: 403, title: 'The call did not arrive over TLS' },
  ERR_MTLS_REQUIRED: { status: 403, title: 'This function requires a verified client certificate' },
  ERR_PEER_INVALID: { status: 403, title: 'The client certificate does not carry exactly one SPIFFE ID' },
  ERR_PEER_UNTRUSTED: { status: 403, title: 'The client certificate SPIFFE ID is not from a trusted domain' },
  ERR_FUNCTION_UNKNOWN: { status: 404, title: 'No function matches this request' },
  ERR_CREDENTIAL_MISSING: { status: 401, title: 'A credential is required' },
  ERR_TOKEN_MALFORMED: { status: 401, title: 'The bearer token is malformed' },
  ERR_TOKEN_ALGORITHM: { status: 401, title: 'The bearer token algorithm is not allowed' },
  ERR_TOKEN_ISSUER: { status: 401, title: 'The bearer token issuer is not trusted' },
  ERR_TOKEN_AUDIENCE: { status: 401, title: 'The bearer token audience is not accepted' },
  ERR_TOKEN_EXPIRED: { status: 401, title: 'The bearer token has expired' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, title: 'The bearer token is not yet valid' },
  ERR_TOKEN_CLAIMS: { status: 401, title: 'The bearer token lacks a required claim' },
  ERR_TOKEN_LIFETIME: { status: 401, title: 'The bearer token lives longer than this issuer allows' },
  ERR_TOKEN_SIGNATURE: { status: 401, title: 'The bearer token signature is invalid' },
  ERR_TOKEN_KEY_UNKNOWN: { status: 401, title: 'The bearer token was signed with an unknown key' },
  ERR_KEYS_UNAVAILABLE: { status: 503, title: "The issuer's signing keys are unavailable" },
  ERR_CREDENTIAL_SCHEME: { status: 401, title: 'The Authorization scheme is not one callguard accepts' },
  ERR_CREDENTIAL_AMBIGUOUS: { status: 401, title: 'More than one credential was presented' },
  ERR_CREDENTIAL_NOT_ACCEPTED: { status: 401, title: 'This function does not accept this kind of credential' },
  ERR_CREDENTIAL_REUSABLE: { status: 401, title: 'This function accepts only single-use credentials (a token with a jti, or a SAML assertion)' },
  ERR_DPOP_PROOF: { status: 401, title: 'The DPoP proof is missing or invalid' },
  ERR_TOKEN_BINDING: { status: 401, title: 'The token is not bound to this caller as required' },
  ERR_TOKEN_REPLAYED: { status: 401, title: 'This single-use credential was already used' },
  ERR_REPLAY_UNAVAILABLE: { status: 503, title: 'Single-use credentials cannot be checked right now; retry shortly' },
  ERR_API_KEY_MALFORMED: { status: 401, title: 'The API key is malformed' },
  ERR_API_KEY_UNKNOWN: { status: 401, title: 'The API key is not known' },
  ERR_API_KEY_EXPIRED: { status: 401, title: 'The API key has expired' },
  ERR_API_KEY_REVOKED: { status: 401, title: 'The API key has been revoked' },
  ERR_SAML_MALFORMED: { status: 401, title: 'The SAML assertion is malformed' },
  ERR_SAML_SIGNATURE: { status: 401, title: 'The SAML assertion is not signed by a trusted key' },
  ERR_SAML_ISSUER: { status: 401, title: 'The SAML assertion issuer is not trusted' },
  ERR_SAML_AUDIENCE: { status: 401, title: 'The SAML assertion is not meant for this audience' },
  ERR_SAML_EXPIRED: { status: 401, title: 'The SAML assertion has expired' },
  ERR_SAML_NOT_YET_VALID: { status: 401, title: 'The SAML assertion is not yet valid' },
  ERR_SAML_CONFIRMATION: { status: 401, title: 'The SAML assertion has no valid bearer subject confirmation' },
  ERR_SAML_LIFETIME: { status: 401, title: 'The SAML assertion lives longer than this identity provider allows' },
  ERR_NOT_PERMITTED: { status: 403, title: 'The caller may not call this function' },
  ERR_BODY_PARTIAL: { status: 413, title: 'The request body was not received whole' },
  ERR_BODY_MISSING: { status: 400, title: 'This function requires a request body' },
  ERR_CONTENT_TYPE: { status: 400, title: 'The content type is not accepted by this function' },
  ERR_BODY_INVALID_JSON: { status: 400, title: 'The request body is not acceptable JSON' },
  ERR_BODY_SCHEMA: { status: 400, title: "The request body does not match the function's schema" },
  ERR_BODY_GRPC_FRAME: { status: 400, title: 'The request body is not the gRPC messages this method takes (framing, count or compression)' },
  ERR_BODY_GRPC_MESSAGE: { status: 400, title: "The gRPC request message does not decode as the method's input type" },
  ERR_BODY_SCHEMA_FAULT: { status: 500, title: "The function's schema could not be evaluated on this body" },
  ERR_JSONRPC_INVALID: { status: 400, title: 'The body is not one valid JSON-RPC 2.0 request or notification as MCP defines them' },
  ERR_JSONRPC_BATCH: { status: 400, title: 'JSON-RPC batches are not accepted; send one message per request' },
  ERR_MCP_HTTP_METHOD: { status: 405, title: 'This MCP endpoint takes POST (JSON-RPC) and DELETE (end of session); it offers no GET stream' },
  ERR_MCP_METHOD: { status: 403, title: 'This MCP method is not allowed at this endpoint' },
  ERR_MCP_METHOD_CASE: { status: 400, title: 'The method name differs from an MCP method only by case or look-alike characters' },
  ERR_MCP_TOOL_UNKNOWN: { status: 400, title: 'This MCP endpoint has no tool of this name' },
  ERR_MCP_TOOL_CONFUSABLE: { status: 400, title: 'The tool name is not ASCII or imitates a configured tool (case, look-alike characters)' },
  ERR_MCP_TOOLS_UNAVAILABLE: { status: 503, title: "This tool's input schema could not be listed from its MCP server yet; retry shortly" },
  ERR_CALLER_UNTRUSTED: { status: 403, title: 'The authorization request did not come from the trusted proxy' },
  ERR_DECISION_LOG_UNAVAILABLE: { status: 503, title: 'Decisions cannot be recorded; calls are refused until they can' },
  ERR_OVERLOADED: { status: 503, title: 'callguard is at capacity; retry shortly' },
  ERR_QUERY_ENCODED_NAME: { status: 400, title: 'A query parameter that must not reach the function is percent-encoded; send it plainly or not at all' },
  ERR_HEADER_INVALID: { status: 400, title: 'A request header value holds a control character or bytes that are not UTF-8' },
  ERR_REQUEST_MALFORMED: { status: 400, title: 'The authorization request is malformed' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
});

export const REASON_CODES = Object.freeze(Object.keys(REASONS) as ReasonCode[]);

/**
 * The one error class for untrusted input. Programmer misuse throws a plain TypeError.
 * `detail` is public (safe for the caller); `cause` stays in the log.
 */
export class CallguardError extends Error {
  override readonly name = 'CallguardError';
  readonly code: ReasonCode;
  constructor(code: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Config problems: `file`, key `path` (JSON pointer) and the problem, all reported together. */
export interface ConfigProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.file}: ${p.path || '/'}: ${p.message}`).join('\n'),
    );
    this.problems = problems;
  }
}
