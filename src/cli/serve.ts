import pino from 'pino';
import { buildCallguard, type Callguard } from '../build-callguard.js';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { startGrpcServer } from '../server/grpc-server.js';
import { configArg } from './config-arg.js';

/** `callguard serve --config FILE`: refuse to start on any config problem; drain on SIGTERM/SIGINT. */
export async function runServe(args: string[]): Promise<number> {
  const ops = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } }, pino.destination(2));
  const file = configArg(args);
  let callguard: Callguard | undefined;
  // SIGHUP (logrotate's postrotate, `docker kill -s HUP`) reopens the decision log; it never ends the
  // process, not even during start-up (Node's default for SIGHUP is to exit).
  process.on('SIGHUP', () => {
    callguard?.log.reopen();
    ops.info({ signal: 'SIGHUP', reopen: callguard !== undefined }, 'decision log will be reopened before its next write');
  });
  let config: Config;
  try {
    config = loadConfig(file);
    callguard = await buildCallguard(config, { onEvent: (e) => ops[e.level]({ issuer: e.issuer }, e.msg) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nrefusing to start\n`);
      return 1;
    }
    throw err;
  }
  let server: Awaited<ReturnType<typeof startGrpcServer>>;
  try {
    server = await startGrpcServer(config.server, callguard.handleCheck, () => callguard.log.healthy());
  } catch (err) {
    // E.g. the port is taken: close the log (and a RELP session) so nothing keeps the process alive.
    await callguard.close();
    throw err;
  }
  ops.info({ address: server.address, tls: config.server.tls !== undefined, mtls: config.server.tls?.clientCa !== undefined, functions: config.functions.length }, 'callguard listening');

  const stop = async (signal: string): Promise<void> => {
    ops.info({ signal }, 'callguard stopping');
    await server.close(5000);
    await callguard.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  return 0;
}
