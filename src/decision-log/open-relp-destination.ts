import { readFileSync } from 'node:fs';
import type { DecisionLogConfig } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { LogSink } from './log-sink.js';
import { parseRelpDestination } from './relp-destination.js';
import { openRelpSink, type RelpSinkOptions } from './relp-sink.js';

/**
 * The sink options of a `relp+tls://` destination, its PEM files read; or the problems (a file that
 * cannot be read), each at its key path. `callguard check` stops here; serve then connects.
 */
export function relpSinkOptions(log: DecisionLogConfig, configFile: string): { ok: true; options: RelpSinkOptions } | { ok: false; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const read = (key: 'ca' | 'cert' | 'key'): Buffer | undefined => {
    const file = log.relp[key];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      problems.push({
        file: configFile,
        path: `/decisionLog/relp/${key}`,
        message: `cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
      return undefined;
    }
  };
  const parsed = parseRelpDestination(log.destination);
  if (!parsed.ok) problems.push({ file: configFile, path: '/decisionLog/destination', message: parsed.problem });
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  if (!parsed.ok || ca === undefined || problems.length > 0) return { ok: false, problems };
  const { serverName, connectTimeoutMs, ackTimeoutMs } = log.relp;
  return {
    ok: true,
    options: {
      name: log.destination,
      ...parsed.address,
      ca,
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(serverName !== undefined ? { serverName } : {}),
      connectTimeoutMs,
      ackTimeoutMs,
    },
  };
}

/**
 * Opens the configured RELP destination, waiting for the session. A receiver that cannot be reached,
 * fails the TLS check or refuses the session is a config problem at `/decisionLog/destination`:
 * callguard refuses to start rather than run without its decision log.
 */
export async function openRelpDestination(log: DecisionLogConfig, configFile: string): Promise<LogSink> {
  const settings = relpSinkOptions(log, configFile);
  if (!settings.ok) throw new ConfigError(settings.problems);
  try {
    return await openRelpSink(settings.options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code !== undefined && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
    throw new ConfigError([{ file: configFile, path: '/decisionLog/destination', message: `cannot open a RELP session with ${log.destination}: ${why}` }]);
  }
}
