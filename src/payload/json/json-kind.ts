import { maskFields } from '../mask-fields.js';
import type { MediaType } from '../media-type.js';
import type { ParsedPayload, PayloadInspector, PayloadKind, PayloadLimits } from '../payload-inspector.js';
import { parseStrictJson } from '../strict-json.js';

const JSON_TYPE = 'application/json';

/** `application/json`: strict JSON (RFC 8259, duplicate keys refused) validated as it is. */
export const jsonKind: PayloadKind = {
  contentType: JSON_TYPE,
  compile(input, { configFile, inputPath, schemas }) {
    const compiled = schemas.compile(input, configFile, `${inputPath}/schema`);
    const inspector: PayloadInspector = {
      contentType: JSON_TYPE,
      digest: compiled.schemaDigest,
      schemaFile: compiled.schemaFile,
      sensitive: compiled.sensitive,
      logFields: compiled.logFields,
      recognize: recognizeJson,
      parse: parseJson,
      validate: compiled.validate,
      summarize: (value) => maskFields(value, inspector),
    };
    return Object.freeze(inspector);
  },
};

/** `application/json` in UTF-8; the ERR_CONTENT_TYPE detail otherwise. Shared with kinds carried in JSON (MCP). */
export function recognizeJson(media: MediaType): string | undefined {
  if (media.essence !== JSON_TYPE) return `the content type must be ${JSON_TYPE}`;
  // RFC 8259 §8.1: JSON exchanged between systems is UTF-8.
  return media.charset !== undefined && media.charset !== 'utf-8' ? 'the charset must be utf-8' : undefined;
}

/** Strict JSON (duplicate keys refused, depth limited), or ERR_BODY_INVALID_JSON naming the offset. */
export function parseJson(bytes: Uint8Array, limits: PayloadLimits): ParsedPayload {
  const parsed = parseStrictJson(bytes, limits);
  return parsed.ok ? parsed : { ok: false, code: 'ERR_BODY_INVALID_JSON', detail: `${parsed.reason} at offset ${parsed.offset}` };
}
