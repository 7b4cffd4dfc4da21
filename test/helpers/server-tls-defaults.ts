import configSchema from '../../src/config/schema.json' with { type: 'json' };
import type { ServerTlsConfig } from '../../src/config/types.js';

const profile = configSchema.properties.server.properties.tls.properties;

/** `server.tls.minVersion` and `ciphers` as the loader fills them in (schema.json's defaults), for hand-built configs. */
export const SERVER_TLS_DEFAULTS: Pick<ServerTlsConfig, 'minVersion' | 'ciphers'> = Object.freeze({
  minVersion: profile.minVersion.default as ServerTlsConfig['minVersion'],
  ciphers: profile.ciphers.default,
});
