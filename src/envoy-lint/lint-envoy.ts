import type { Bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { CallguardFacts } from './callguard-facts.js';
import { checkClusters } from './check-clusters.js';
import { checkExtAuthz } from './check-ext-authz.js';
import { checkFunctions } from './check-functions.js';
import { checkListeners } from './check-listeners.js';
import { checkManagers } from './check-managers.js';
import { toEnvoyModel } from './envoy-model.js';
import type { Finding } from './rule-catalog.js';

const ORDER = { error: 0, warning: 1, note: 2 } as const;

/**
 * Every finding for one bootstrap, errors first, then by path. `callguard` (from `--callguard CONFIG`)
 * enables the rules that need to know the functions; without it they do not run.
 */
export function lintEnvoy(bootstrap: Bootstrap, callguard?: CallguardFacts): Finding[] {
  const model = toEnvoyModel(bootstrap);
  const findings = [
    ...checkListeners(model, callguard),
    ...checkManagers(model),
    ...checkExtAuthz(model, callguard),
    ...checkClusters(model),
    ...(callguard !== undefined ? checkFunctions(model, callguard) : []),
  ];
  return findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || a.path.localeCompare(b.path) || a.rule.localeCompare(b.rule));
}
