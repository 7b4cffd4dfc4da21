import { isRelpDestination, parseRelpDestination } from '../decision-log/relp-destination.js';
import type { ConfigProblem } from '../errors.js';
import type { DecisionLogConfig } from './types.js';

/**
 * Rules for a `relp+tls://` decision-log destination the JSON Schema cannot express: a well-formed
 * address, a CA to verify the receiver with, `cert` and `key` together, no `fsync` (the receiver's
 * acknowledgement is the durability it offers) and no rotation (the receiver owns its files); and
 * `relp` settings only with such a destination, so a typo in it cannot silently log to a local file.
 */
export function checkRelp(log: DecisionLogConfig, configFile: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ file: configFile, path: `/decisionLog${path}`, message });
  };
  const relp = log.relp;
  if (!isRelpDestination(log.destination)) {
    if (relp.ca !== undefined || relp.cert !== undefined || relp.key !== undefined || relp.serverName !== undefined) {
      add('/relp', 'is only used with a relp+tls://HOST:PORT destination');
    }
    return problems;
  }
  const parsed = parseRelpDestination(log.destination);
  if (!parsed.ok) add('/destination', parsed.problem);
  if (relp.ca === undefined) add('/relp/ca', "required with a relp+tls:// destination (the CA that signed the receiver's certificate)");
  if (relp.cert !== undefined && relp.key === undefined) add('/relp/cert', 'requires key');
  if (relp.key !== undefined && relp.cert === undefined) add('/relp/key', 'requires cert');
  if (log.durability === 'fsync') {
    add('/durability', '"fsync" needs a file destination; with a RELP receiver use "written" (a call waits for the receiver\'s acknowledgement of its line)');
  }
  if (log.rotate !== undefined) add('/rotate', 'needs a file destination; a RELP receiver rotates its own files');
  return problems;
}
