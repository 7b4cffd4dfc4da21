import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

/** `<repo root>/../shared/conformance`; this file is `<repo root>/test/helpers/conformance.ts`. */
const BESIDE_REPO = fileURLToPath(new URL('../../../shared/conformance', import.meta.url));

/**
 * Where the shared conformance data lives (see its README): `CONFORMANCE_DIR` if set (and then only
 * there: a wrong setting must not silently pick up another copy), else `<repo root>/../shared/conformance`,
 * else `/work/shared/conformance`. Undefined when none exists.
 */
export function conformanceDir(): string | undefined {
  const explicit = process.env['CONFORMANCE_DIR'];
  if (explicit !== undefined && explicit !== '') return existsSync(explicit) ? explicit : undefined;
  return [BESIDE_REPO, '/work/shared/conformance'].find((dir) => existsSync(dir));
}

/**
 * How a conformance suite treats missing data: on CI (`CI` set) a failure, since a skipped suite
 * would pass silently; elsewhere a skip whose reason is printed and shown in the test name.
 */
export function missingConformanceData(what: string): { readonly fail: boolean; readonly reason: string } {
  const reason = `${what} not found: set CONFORMANCE_DIR, or put the shared conformance data at ../shared/conformance (see its README)`;
  return { fail: process.env['CI'] !== undefined && process.env['CI'] !== '', reason };
}

/**
 * Registers what a suite whose data is missing runs instead of its tests: on CI a test named `finds …`
 * that fails with the reason (a skipped suite would pass silently), elsewhere a skip naming the reason.
 */
export function testMissingConformanceData(what: string, data: string): void {
  const missing = missingConformanceData(data);
  if (missing.fail) {
    it(`finds the ${what}`, () => {
      throw new Error(missing.reason);
    });
  } else {
    console.warn(`${what} skipped: ${missing.reason}`);
    it.skip(`skipped: ${missing.reason}`, () => {});
  }
}

/** One Wycheproof JOSE test (`json_web_*_test.json`, schema `json_web_*_schema_v1.json`). */
export interface WycheproofJoseTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
  /** Compact serialization, or a JSON serialization object. */
  readonly jws?: string | Readonly<Record<string, unknown>>;
  readonly jwe?: string | Readonly<Record<string, unknown>>;
}

/** A group of tests sharing one key set: `private` always, `public` where the keys have a public part. */
export interface WycheproofJoseGroup {
  readonly comment: string;
  readonly private: { readonly keys?: readonly Record<string, unknown>[] } & Record<string, unknown>;
  readonly public?: { readonly keys?: readonly Record<string, unknown>[] } & Record<string, unknown>;
  readonly tests: readonly WycheproofJoseTest[];
}

/** Reads a Wycheproof JOSE vector file from `<dir>/wycheproof/testvectors_v1/`. */
export function readWycheproofJose(dir: string, name: string): readonly WycheproofJoseGroup[] {
  const path = join(dir, 'wycheproof', 'testvectors_v1', name);
  return (JSON.parse(readFileSync(path, 'utf8')) as { testGroups: WycheproofJoseGroup[] }).testGroups;
}
