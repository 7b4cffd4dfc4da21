import { type DescField, type DescMessage, fromJson, type JsonValue, type Registry } from '@bufbuild/protobuf';
import { at, type JsonPath } from './json-path.js';

export interface JsonProblem {
  readonly path: JsonPath;
  readonly message: string;
}

/** Types whose JSON form is not an object of fields (RFC-less, protobuf's JSON mapping): not descended into. */
const OPAQUE = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue']);

/**
 * Where `json` fails to decode as `desc`, as deep as it can be pinned: protobuf-es reports what is wrong
 * but not where, so each field is decoded on its own, with the decoder itself as the judge, and the
 * first failing one is descended into. `undefined` when the whole value decodes.
 */
export function locateJsonError(desc: DescMessage, json: JsonValue, registry: Registry, path: JsonPath): JsonProblem | undefined {
  const error = decodeError(desc, json, registry);
  if (error === undefined) return undefined;
  if (json === null || typeof json !== 'object' || Array.isArray(json) || OPAQUE.has(desc.typeName)) return { path, message: error };
  let target = desc;
  let fields: [string, JsonValue][] = Object.entries(json);
  if (desc.typeName === 'google.protobuf.Any') {
    const typeUrl = json['@type'];
    if (typeof typeUrl !== 'string') return { path: at(path, '@type'), message: 'missing "@type"' };
    const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const resolved = registry.getMessage(typeName);
    if (resolved === undefined) return { path: at(path, '@type'), message: `unknown type "${typeUrl}" (not an Envoy type this linter reads)` };
    target = resolved;
    fields = fields.filter(([key]) => key !== '@type');
  }
  for (const [key, value] of fields) {
    const field = target.fields.find((f) => f.jsonName === key || f.name === key);
    if (field === undefined) {
      // A well-known type inside an Any carries its JSON form under "value".
      if (target !== desc && isWellKnownValueKey(target, key)) continue;
      return { path: at(path, key), message: `unknown field "${key}" in ${target.typeName}` };
    }
    const single = target === desc ? { [key]: value } : { '@type': json['@type'] as string, [key]: value };
    const fieldError = decodeError(desc, single, registry);
    if (fieldError !== undefined) return locateInField(field, value, registry, at(path, key)) ?? { path: at(path, key), message: fieldError };
  }
  return { path, message: error };
}

function locateInField(field: DescField, value: JsonValue, registry: Registry, path: JsonPath): JsonProblem | undefined {
  if (field.fieldKind === 'message') return locateJsonError(field.message, value, registry, path);
  if (field.fieldKind === 'list' && field.listKind === 'message' && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = locateJsonError(field.message, item, registry, at(path, i));
      if (found !== undefined) return found;
    }
  }
  if (field.fieldKind === 'map' && field.mapKind === 'message' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = locateJsonError(field.message, item, registry, at(path, key));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isWellKnownValueKey(desc: DescMessage, key: string): boolean {
  return key === 'value' && desc.typeName.startsWith('google.protobuf.');
}

function decodeError(desc: DescMessage, json: JsonValue, registry: Registry): string | undefined {
  try {
    fromJson(desc, json, { registry });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
