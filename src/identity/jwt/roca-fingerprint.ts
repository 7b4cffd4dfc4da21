/**
 * The ROCA fingerprint (CVE-2017-15361; Nemec, Sys, Svenda, Klinec, Matyas, "The Return of Coppersmith's
 * Attack", ACM CCS 2017). Infineon's RSALib made primes of the form p = k·M + (65537^a mod M), M the
 * product of the primes up to 167, so every modulus n = p·q it made is a power of 65537 modulo M.
 *
 * Two tests, both from the public detector crocs-muni/roca (`roca/detect.py`, MIT):
 * - `has_fingerprint_moduli`: for each prime p in 3..167, n mod p lies in the subgroup that 65537
 *   generates mod p (the detector's `primes`/`prints` tables; `prints[i]` has bit r set for each such
 *   residue r). Derived here from 65537 instead of copied; a test compares the two. Alone it flags about
 *   one random modulus in 2^27.
 * - `has_fingerprint_dlog` (the detector's default): n is a power of 65537 modulo M itself. Here: the
 *   discrete logarithms of n modulo each p must agree (generalized CRT: pairwise equal modulo the gcd of
 *   the orders), which holds for every RSALib modulus and flags a random one with probability about 2^-154.
 */

/** The detector's primes (`RocaFingerprinter.primes`; `DlogFprint` adds 2, where 65537 ≡ 1 and any n is odd). */
const PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163,
  167,
] as const;

const GENERATOR = 65537;

interface Subgroup {
  readonly prime: number;
  /** The order of 65537 modulo `prime`. */
  readonly order: number;
  /** residue → its discrete logarithm to base 65537 (0 ≤ log < order); absent: not in the subgroup. */
  readonly logs: ReadonlyMap<number, number>;
}

function subgroupOf(prime: number): Subgroup {
  const g = GENERATOR % prime;
  const logs = new Map<number, number>();
  for (let power = 1, exponent = 0; !logs.has(power); power = (power * g) % prime, exponent += 1) logs.set(power, exponent);
  return { prime, order: logs.size, logs };
}

const SUBGROUPS: readonly Subgroup[] = PRIMES.map(subgroupOf);

/** The detector's `prints[i]` for prime i: bit r set iff r is a power of 65537 mod that prime. */
export function rocaPrints(): { prime: number; print: bigint }[] {
  return SUBGROUPS.map(({ prime, logs }) => ({ prime, print: [...logs.keys()].reduce((mask, r) => mask | (1n << BigInt(r)), 0n) }));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** True if `modulus` carries the fingerprint of Infineon RSALib (ROCA): such a key can be factored. */
export function hasRocaFingerprint(modulus: bigint): boolean {
  const logs: { order: number; log: number }[] = [];
  for (const { prime, order, logs: table } of SUBGROUPS) {
    const log = table.get(Number(modulus % BigInt(prime)));
    if (log === undefined) return false; // has_fingerprint_moduli: not in the subgroup mod this prime
    logs.push({ order, log });
  }
  // has_fingerprint_dlog: one exponent k with k ≡ log_p (mod order_p) for all p exists iff they agree pairwise.
  for (const [i, a] of logs.entries()) {
    for (const b of logs.slice(i + 1)) {
      const common = gcd(a.order, b.order);
      if (a.log % common !== b.log % common) return false;
    }
  }
  return true;
}
