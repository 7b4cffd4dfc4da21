import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { type Bootstrap, BootstrapSchema } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ENVOY_REGISTRY } from './envoy-registry.js';
import { ROOT } from './json-path.js';
import { locateJsonError } from './locate-json-error.js';

/**
 * Parses an Envoy v3 bootstrap (YAML, or JSON, which is YAML) with Envoy's own protos: an unknown field,
 * a misspelt enum, a malformed duration or an `@type` the registry does not hold is a ConfigError naming
 * the JSON path, as Envoy's `--mode validate` would refuse it. Field names may be proto (`snake_case`, as
 * Envoy's docs write them) or JSON (`lowerCamel`) names; durations are strings such as `"0.25s"`.
 */
export function readBootstrap(text: string, file: string): Bootstrap {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const json = (doc.toJS() ?? {}) as JsonValue;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError([{ file, path: ROOT, message: 'an Envoy bootstrap is a mapping (static_resources, admin, …)' }]);
  }
  try {
    return fromJson(BootstrapSchema, json, { registry: ENVOY_REGISTRY });
  } catch (err) {
    const problem = locateJsonError(BootstrapSchema, json, ENVOY_REGISTRY, ROOT) ?? { path: ROOT, message: (err as Error).message };
    throw new ConfigError([{ file, path: problem.path, message: problem.message }]);
  }
}
