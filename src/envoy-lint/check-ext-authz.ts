import type { Duration } from '@bufbuild/protobuf/wkt';
import type { ExtAuthz } from '../gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { StatusCode } from '../gen/envoy/type/v3/http_status_pb.js';
import { FractionalPercent_DenominatorType } from '../gen/envoy/type/v3/percent_pb.js';
import { authzServiceOf } from './authz-service.js';
import { type CallguardFacts, DEFAULT_FACTS } from './callguard-facts.js';
import type { EnvoyModel } from './envoy-model.js';
import { at, type JsonPath } from './json-path.js';
import { matchList } from './match-string.js';
import { type Finding, finding } from './rule-catalog.js';

/** Above this, a slow callguard stalls every caller before the outage shows (Envoy's default is 200 ms). */
const MAX_TIMEOUT_MS = 1000;

const DENOMINATOR = new Map([
  [FractionalPercent_DenominatorType.HUNDRED, 100],
  [FractionalPercent_DenominatorType.TEN_THOUSAND, 10_000],
  [FractionalPercent_DenominatorType.MILLION, 1_000_000],
]);

/** The settings of each ext_authz filter (extensions/filters/http/ext_authz/v3/ext_authz.proto). */
export function checkExtAuthz(model: EnvoyModel, callguard: CallguardFacts | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const manager of model.managers) {
    for (const filter of manager.filters) {
      if (filter.extAuthz !== undefined) findings.push(...checkFilter(filter.extAuthz, filter.path, callguard));
    }
  }
  return findings;
}

function checkFilter(config: ExtAuthz, filterPath: JsonPath, callguard: CallguardFacts | undefined): Finding[] {
  const findings: Finding[] = [];
  const path = at(filterPath, 'typed_config');
  if (config.failureModeAllow) findings.push(finding('ext-authz-failure-mode-allow', at(path, 'failure_mode_allow'), 'failure_mode_allow: true'));
  const enabled = config.filterEnabled?.defaultValue;
  if (enabled !== undefined && enabled.numerator < (DENOMINATOR.get(enabled.denominator) ?? 100)) {
    findings.push(
      finding('ext-authz-disabled', at(path, 'filter_enabled'), `enabled for ${enabled.numerator}/${DENOMINATOR.get(enabled.denominator)} of requests`),
    );
  }
  if (config.filterEnabledMetadata !== undefined) {
    findings.push(finding('ext-authz-disabled', at(path, 'filter_enabled_metadata'), 'enabled only for requests whose metadata matches'));
  }
  const service = authzServiceOf(config, filterPath);
  const ms = service?.timeout !== undefined ? toMillis(service.timeout) : undefined;
  if (service !== undefined && ms === 0) findings.push(finding('ext-authz-no-timeout', service.timeoutPath, 'timeout 0s: none'));
  if (service !== undefined && ms !== undefined && ms > MAX_TIMEOUT_MS)
    findings.push(finding('ext-authz-timeout-long', service.timeoutPath, `timeout ${ms} ms`));
  findings.push(...checkRetries(config, path, ms));
  findings.push(...checkStatusOnError(config, path));
  const body = config.withRequestBody;
  if (body?.allowPartialMessage)
    findings.push(finding('ext-authz-partial-body', at(path, 'with_request_body', 'allow_partial_message'), 'allow_partial_message: true'));
  const schemaFunctions = callguard?.functions.filter((fn) => fn.hasSchema).map((fn) => fn.name) ?? [];
  if (body === undefined && schemaFunctions.length > 0) {
    findings.push(finding('ext-authz-body-missing', at(path, 'with_request_body'), `no body is sent, but ${schemaFunctions.join(', ')} validate one`));
  }
  const mtlsFunctions = callguard?.functions.filter((fn) => fn.needsClientCertificate).map((fn) => fn.name) ?? [];
  if (!config.includePeerCertificate && mtlsFunctions.length > 0) {
    findings.push(
      finding('ext-authz-peer-certificate', at(path, 'include_peer_certificate'), `off, but ${mtlsFunctions.join(', ')} need the caller's certificate`),
    );
  }
  findings.push(...checkHeaders(config, path, callguard ?? DEFAULT_FACTS));
  return findings;
}

/** Retry conditions that only fire before a Check reached callguard (or on an answer callguard gives only undecided). */
const RETRY_BEFORE_SENDING = new Set(['connect-failure', 'refused-stream', 'reset-before-request', 'unavailable', 'http3-post-connect-failure']);
/** Envoy's default retry back-off base interval (25 ms); the maximum defaults to ten times the base. */
const DEFAULT_BASE_MS = 25;

/**
 * grpc_service.retry_policy: Envoy uses retry_back_off.max_interval as the per-try timeout
 * (Http::Utility::convertCoreToRouteRetryPolicy), so a per-try timeout under the Check timeout, or a retry
 * condition that can fire after the Check was sent (`reset`, `5xx`, a status code), may decide one call twice.
 */
function checkRetries(config: ExtAuthz, path: JsonPath, timeoutMs: number | undefined): Finding[] {
  if (config.services.case !== 'grpcService') return [];
  const policy = config.services.value.retryPolicy;
  if (policy === undefined || policy.numRetries === 0) return [];
  const findings: Finding[] = [];
  const policyPath = at(path, 'grpc_service', 'retry_policy');
  const unsafe = policy.retryOn
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && !RETRY_BEFORE_SENDING.has(c));
  if (unsafe.length > 0) findings.push(finding('ext-authz-retry-unsafe', at(policyPath, 'retry_on'), `retries on ${unsafe.join(', ')}`));
  const backOff = policy.retryBackOff;
  const baseMs = backOff?.baseInterval !== undefined ? toMillis(backOff.baseInterval) : DEFAULT_BASE_MS;
  const perTryMs = backOff?.maxInterval !== undefined ? toMillis(backOff.maxInterval) : baseMs * 10;
  if (timeoutMs !== undefined && timeoutMs > 0 && perTryMs < timeoutMs) {
    findings.push(finding('ext-authz-retry-unsafe', at(policyPath, 'retry_back_off'), `per-try timeout ${perTryMs} ms < Check timeout ${timeoutMs} ms`));
  }
  return findings;
}

function checkStatusOnError(config: ExtAuthz, path: JsonPath): Finding[] {
  const code = config.statusOnError?.code ?? StatusCode.Empty;
  const statusPath = at(path, 'status_on_error');
  // Envoy ext_authz: without status_on_error an error answers 403 Forbidden.
  if (code === StatusCode.Empty) return [finding('ext-authz-status-on-error-denial', statusPath, 'unset: an outage answers 403, as a denial does')];
  if (code < 400) return [finding('ext-authz-status-on-error', at(statusPath, 'code'), `${code} (${StatusCode[code]})`)];
  if (code === StatusCode.Unauthorized || code === StatusCode.Forbidden) {
    return [finding('ext-authz-status-on-error-denial', at(statusPath, 'code'), `${code} (${StatusCode[code]}), as a denial`)];
  }
  return [];
}

/**
 * With allowed_headers set, Envoy sends a gRPC authorization service only the headers it matches
 * (ext_authz.proto, allowed_headers); disallowed_headers wins over it.
 */
function checkHeaders(config: ExtAuthz, path: JsonPath, facts: CallguardFacts): Finding[] {
  const findings: Finding[] = [];
  for (const { header, why } of facts.readHeaders) {
    if (config.allowedHeaders !== undefined && matchList(config.allowedHeaders, header) === false) {
      findings.push(finding('ext-authz-allowed-headers', at(path, 'allowed_headers'), `"${header}" (${why}) is not in allowed_headers`));
    }
    if (config.disallowedHeaders !== undefined && matchList(config.disallowedHeaders, header) === true) {
      findings.push(finding('ext-authz-allowed-headers', at(path, 'disallowed_headers'), `"${header}" (${why}) is in disallowed_headers`));
    }
  }
  return findings;
}

function toMillis(duration: Duration): number {
  return Number(duration.seconds) * 1000 + Math.floor(duration.nanos / 1e6);
}
