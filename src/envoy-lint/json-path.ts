/** A JSONPath (`$.static_resources.listeners[0].name`) built one step at a time. */
export type JsonPath = string;

export const ROOT: JsonPath = '$';

/** `$.a` + `b` → `$.a.b`; a number indexes (`[0]`); a key that is not an identifier is quoted (`['@type']`). */
export function at(path: JsonPath, ...steps: readonly (string | number)[]): JsonPath {
  let out = path;
  for (const step of steps) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(step)) out += `.${step}`;
    else out += `['${step.replaceAll("'", "\\'")}']`;
  }
  return out;
}
