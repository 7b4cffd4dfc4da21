import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

/** The problems `parseConfig` reports for `text` (key path and message), or none when it is valid. */
export function configProblems(text: string, file: string): { path: string; message: string }[] {
  try {
    parseConfig(text, file);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(({ path, message }) => ({ path, message }));
    throw err;
  }
}
