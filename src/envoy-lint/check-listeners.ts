import { CertificateValidationContext_TrustChainVerification } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { CallguardFacts } from './callguard-facts.js';
import { checkTlsParams, hasTrustAnchors, validationOf } from './check-tls-params.js';
import { isLocalAddress } from './endpoint-hosts.js';
import type { ChainModel, EnvoyModel } from './envoy-model.js';
import { at } from './json-path.js';
import { type Finding, finding } from './rule-catalog.js';

/**
 * Listener filter chains: TLS on every chain (listener-plaintext), its version and suites, and client
 * certificates verified when requested (client-cert-*). The admin interface on loopback.
 */
export function checkListeners(model: EnvoyModel, callguard: CallguardFacts | undefined): Finding[] {
  const findings: Finding[] = [];
  const mtlsFunctions = callguard?.functions.filter((fn) => fn.needsClientCertificate).map((fn) => fn.name) ?? [];
  for (const chain of model.chains) findings.push(...checkChain(chain, mtlsFunctions));
  const admin = model.admin;
  if (admin?.admin.address !== undefined && !isLocalAddress(admin.admin.address)) {
    const socket = admin.admin.address.address;
    const shown = socket.case === 'socketAddress' ? socket.value.address : String(socket.case);
    findings.push(finding('admin-off-loopback', at(admin.path, 'address'), `admin listens on ${shown}`));
  }
  return findings;
}

function checkChain(chain: ChainModel, mtlsFunctions: readonly string[]): Finding[] {
  if (chain.tls === undefined) {
    const kind = chain.otherTransport === undefined ? 'no transport_socket' : `transport_socket ${chain.otherTransport.name || '(unnamed)'}`;
    return [finding('listener-plaintext', chain.path, `listener "${chain.listener.name}": ${kind}`)];
  }
  const { context, path } = chain.tls;
  const findings = checkTlsParams(context.commonTlsContext, path);
  const validation = validationOf(context.commonTlsContext);
  const validationPath = at(path, 'common_tls_context', 'validation_context');
  if (validation !== 'sds' && validation?.trustChainVerification === CertificateValidationContext_TrustChainVerification.ACCEPT_UNTRUSTED) {
    findings.push(finding('client-cert-unverified', at(validationPath, 'trust_chain_verification'), 'ACCEPT_UNTRUSTED: any client certificate is accepted'));
  } else if (context.requireClientCertificate === true && !hasTrustAnchors(validation)) {
    findings.push(finding('client-cert-unverified', validationPath, 'require_client_certificate without a trusted CA'));
  } else if (validation !== 'sds' && hasTrustAnchors(validation) && validation?.crl === undefined) {
    findings.push(finding('tls-no-crl', validationPath, 'a revoked client certificate is accepted'));
  }
  // Envoy asks for a client certificate only when the context can validate one (tls.proto,
  // DownstreamTlsContext.require_client_certificate: "optional, unless ... validation context").
  if (validation === undefined && mtlsFunctions.length > 0) {
    findings.push(finding('client-cert-not-requested', path, `no validation context, but ${mtlsFunctions.join(', ')} need a client certificate`));
  }
  return findings;
}
