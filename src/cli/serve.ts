import pino from 'pino';
import type { RunningAdmin } from '../admin/admin-server.js';
import { createAdmin } from '../admin/create-admin.js';
import { buildCallguard, type Callguard } from '../build-callguard.js';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { startGrpcServer } from '../server/grpc-server.js';
import { configArg } from './config-arg.js';

/**
 * `callguard serve --config FILE`: refuse to start on any config problem; then the gRPC server, then
 * the admin listener (`admin`: probes and metrics); drain on SIGTERM/SIGINT, not ready meanwhile.
 */
export async function runServe(args: string[]): Promise<number> {
  const ops = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } }, pino.destination(2));
  const file = configArg(args);
  let callguard: Callguard | undefined;
  // SIGHUP (logrotate's postrotate, `docker kill -s HUP`) reopens the decision log and reloads the config
  // file (functions, schemas, identity sources); it never ends the process, not even during start-up
  // (Node's default for SIGHUP is to exit).
  process.on('SIGHUP', () => {
    callguard?.log.reopen();
    ops.info({ signal: 'SIGHUP', reopen: callguard !== undefined }, 'decision log will be reopened before its next write');
    if (callguard !== undefined) void reloadConfig(callguard);
  });
  const reloadConfig = async (running: Callguard): Promise<void> => {
    try {
      const next = loadConfig(file);
      const result = await running.reload(next);
      admin?.reloaded(
        'ok',
        next.functions.map((fn) => fn.name),
      );
      ops.info(
        { reload: 'ok', config: result.digest, functions: result.functions, changed: result.changed },
        result.changed ? 'config reloaded: calls from now on are decided by it' : 'config reloaded: unchanged',
      );
    } catch (err) {
      admin?.reloaded('refused');
      if (err instanceof ConfigError) {
        ops.error(
          { reload: 'refused', config: running.policyDigest(), problems: err.problems },
          `config reload refused, the running config keeps serving:\n${err.message}`,
        );
      } else {
        ops.error(
          { reload: 'refused', config: running.policyDigest(), err: err instanceof Error ? err.message : String(err) },
          'config reload failed, the running config keeps serving',
        );
      }
    }
  };
  let config: Config;
  let admin: ReturnType<typeof createAdmin> | undefined;
  try {
    config = loadConfig(file);
    admin = config.admin.enabled ? createAdmin(config) : undefined;
    callguard = await buildCallguard(config, {
      onEvent: (e) => ops[e.level]({ issuer: e.issuer }, e.msg),
      ...(admin !== undefined ? { meter: admin.meter } : {}),
    });
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
  ops.info(
    {
      address: server.address,
      tls: config.server.tls !== undefined,
      mtls: config.server.tls?.clientCa !== undefined,
      functions: config.functions.length,
      config: callguard.policyDigest(),
    },
    'callguard listening',
  );
  let stopping = false;
  let adminServer: RunningAdmin | undefined;
  try {
    adminServer = await admin?.start(callguard, { stopping: () => stopping, onError: (err) => ops.warn({ err: String(err) }, 'admin: metrics scrape failed') });
  } catch (err) {
    await server.close(0);
    await callguard.close();
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nrefusing to start\n`);
    return 1;
  }
  if (adminServer !== undefined) ops.info({ address: adminServer.address, endpoints: ['/healthz', '/readyz', '/metrics'] }, 'admin listening');

  const stop = async (signal: string): Promise<void> => {
    ops.info({ signal }, 'callguard stopping');
    // Not ready from now on (a load balancer stops sending calls), live until the last one is answered.
    stopping = true;
    await server.close(5000);
    await callguard.close();
    await adminServer?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  return 0;
}
