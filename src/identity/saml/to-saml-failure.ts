import { type Failure, fail } from '../../failure.js';

/** Where a foreign (xmldom, xml-crypto) error was thrown. */
export type SamlStage = 'parse' | 'signature';

/**
 * Converts anything xmldom or xml-crypto throws into a coded failure: the one place foreign errors
 * of the SAML path become reason codes. The foreign message may quote the request, so it is kept
 * in `internal` only.
 */
export function toSamlFailure(error: unknown, stage: SamlStage): Failure {
  const internal = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);
  return stage === 'parse'
    ? fail('ERR_SAML_MALFORMED', 'the SAML assertion is not well-formed XML', internal)
    : fail('ERR_SAML_SIGNATURE', 'the SAML assertion signature does not verify', internal);
}
