import { Writable } from 'node:stream';
import { buildCallguard } from '../build-callguard.js';
import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { configArg } from './config-arg.js';

/**
 * `callguard check --config FILE`: what `serve` would refuse, nothing served. Problems in the file's
 * shape are listed at once; once the shape is valid, those in function schemas, identity keys and the
 * decision log's destination are, together. An MCP server that cannot be listed is a warning: serve
 * starts without its schemas.
 */
export async function runCheck(args: string[]): Promise<number> {
  const file = configArg(args);
  try {
    const config = loadConfig(file);
    const discard = new Writable({ write: (_chunk, _enc, done) => done() });
    const callguard = await buildCallguard(config, { decisionLog: discard });
    // Serve would start with these too (their tools refused until listed), so they warn rather than fail.
    for (const server of callguard.toolServers()) {
      if (!server.listed) process.stderr.write(`warning: function "${server.function}": cannot list the tools of ${server.why ?? server.url}\n`);
    }
    await callguard.close();
    process.stdout.write(`${config.file}: ok (${config.functions.length} functions, ${config.identity.issuers.length} issuers)\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
