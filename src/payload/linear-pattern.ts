/**
 * The native-RegExp fast path for schema patterns that provably run in linear time on V8's
 * backtracking engine. Everything else stays on RE2 (see regexp-engine.ts).
 *
 * Accepted shape: `^`, then a sequence of atoms, then an optional `$`. An atom is a literal, `.`,
 * `\d`, `\w`, an escaped syntax character, or a character class of those (ranges and negation
 * allowed), with an optional greedy quantifier (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, counts ≤ 1000).
 * No groups, alternation, lookaround, backreferences, lazy quantifiers or other escapes.
 *
 * Linear because of one more rule: the set of characters a variable-length atom matches is disjoint
 * from the set that can come right after it (the following atoms up to and including the first one
 * that must match at least once). Then a variable atom's greedy match is its only viable length: when
 * the engine backtracks into it, the character given back is one the next atom cannot start with, so
 * each backtracking step fails at once, and with the `^` anchor there is one start position. Total
 * work is O(input length × atoms). `^[A-Z]{3}-[0-9]{4,8}$` qualifies; `^(a+)+$`, `^a*a*b$` and
 * `^[a-z]+[a-z0-9]$` do not.
 */

type Range = readonly [number, number];
/** Sorted, non-overlapping, non-adjacent code point ranges. */
type CharSet = readonly Range[];

interface Atom {
  readonly set: CharSet;
  readonly min: number;
  readonly max: number;
}

const MAX_CODE_POINT = 0x10ffff;
/** RE2 refuses larger repetition counts; keep the fast path to what RE2 would also accept. */
const MAX_REPEAT = 1000;
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
/** ECMA-262 `.` without the `s` flag: anything but a line terminator. */
const DOT: CharSet = complement(
  normalize([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b };
/** ECMA-262 SyntaxCharacter plus `/` and `-`: the identity escapes allowed with the `u` flag. */
const SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/', '-']);

/** A native `u`-flag RegExp for `pattern` when it is in the linear-time subset, else undefined. */
export function linearRegExp(pattern: string): RegExp | undefined {
  const atoms = parse(pattern);
  if (atoms === undefined || !isDeterministic(atoms)) return undefined;
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

/** Parses the accepted shape into atoms; undefined for anything outside it. */
function parse(pattern: string): Atom[] | undefined {
  const cps = Array.from(pattern);
  if (cps[0] !== '^') return undefined;
  let end = cps.length;
  if (end > 1 && cps[end - 1] === '$' && cps[end - 2] !== '\\') end--;
  const atoms: Atom[] = [];
  let i = 1;
  while (i < end) {
    const c = cps[i] as string;
    let set: CharSet | undefined;
    if (c === '[') {
      const parsed = parseClass(cps, i + 1, end);
      if (parsed === undefined) return undefined;
      set = parsed.set;
      i = parsed.next;
    } else if (c === '\\') {
      set = escapeSet(cps[i + 1]);
      i += 2;
    } else if (c === '.') {
      set = DOT;
      i++;
    } else if (SYNTAX.has(c) && c !== '/' && c !== '-') {
      return undefined; // groups, alternation, anchors mid-pattern, stray quantifiers
    } else {
      set = single(c.codePointAt(0) as number);
      i++;
    }
    if (set === undefined) return undefined;
    const quantified = parseQuantifier(cps, i, end);
    if (quantified === undefined) return undefined;
    atoms.push({ set, min: quantified.min, max: quantified.max });
    i = quantified.next;
  }
  return i === end ? atoms : undefined;
}

function parseQuantifier(cps: readonly string[], i: number, end: number): { min: number; max: number; next: number } | undefined {
  const c = cps[i];
  let q: { min: number; max: number; next: number } | undefined;
  if (i >= end || (c !== '*' && c !== '+' && c !== '?' && c !== '{')) return { min: 1, max: 1, next: i };
  if (c === '*') q = { min: 0, max: Number.POSITIVE_INFINITY, next: i + 1 };
  else if (c === '+') q = { min: 1, max: Number.POSITIVE_INFINITY, next: i + 1 };
  else if (c === '?') q = { min: 0, max: 1, next: i + 1 };
  else {
    const close = cps.indexOf('}', i);
    if (close === -1 || close >= end) return undefined;
    const m = /^(\d{1,4})(?:(,)(\d{1,4})?)?$/.exec(cps.slice(i + 1, close).join(''));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (min > MAX_REPEAT || (Number.isFinite(max) && max > MAX_REPEAT) || max < min) return undefined;
    q = { min, max, next: close + 1 };
  }
  // A lazy quantifier (`+?`) or a quantified quantifier is outside the subset.
  const after = cps[q.next];
  if (q.next < end && (after === '?' || after === '*' || after === '+' || after === '{')) return undefined;
  return q;
}

/** `[...]` starting after the `[`; returns the set and the index after `]`. */
function parseClass(cps: readonly string[], start: number, end: number): { set: CharSet; next: number } | undefined {
  let i = start;
  const negated = cps[i] === '^';
  if (negated) i++;
  const ranges: Range[] = [];
  let first = true;
  for (;;) {
    if (i >= end) return undefined;
    const c = cps[i] as string;
    if (c === ']' && !first) break;
    if (c === ']' || c === '[') return undefined; // `[]`, `[^]`, nested `[`
    first = false;
    const lo = classMember(cps, i);
    if (lo === undefined) return undefined;
    i = lo.next;
    if (cps[i] === '-' && cps[i + 1] !== ']' && i + 1 < end) {
      const hi = classMember(cps, i + 1);
      if (hi === undefined || lo.single === undefined || hi.single === undefined || hi.single < lo.single) return undefined;
      ranges.push([lo.single, hi.single]);
      i = hi.next;
    } else {
      ranges.push(...lo.set);
    }
  }
  const set = normalize(ranges);
  return { set: negated ? complement(set) : set, next: i + 1 };
}

/** One class member: a literal or an escape. `single` is set when it is one code point (usable in a range). */
function classMember(cps: readonly string[], i: number): { set: CharSet; single: number | undefined; next: number } | undefined {
  const c = cps[i] as string;
  if (c !== '\\') {
    const cp = c.codePointAt(0) as number;
    return { set: single(cp), single: cp, next: i + 1 };
  }
  const set = escapeSet(cps[i + 1]);
  if (set === undefined) return undefined;
  const only = set.length === 1 && (set[0] as Range)[0] === (set[0] as Range)[1] ? (set[0] as Range)[0] : undefined;
  return { set, single: only, next: i + 2 };
}

/** `\d`, `\w`, control escapes and escaped syntax characters; undefined for every other escape. */
function escapeSet(c: string | undefined): CharSet | undefined {
  if (c === undefined) return undefined;
  if (c === 'd') return DIGIT;
  if (c === 'w') return WORD;
  const control = CONTROL_ESCAPES[c];
  if (control !== undefined) return single(control);
  if (SYNTAX.has(c)) return single(c.codePointAt(0) as number);
  return undefined;
}

/** Every variable-length atom is disjoint from what may follow it (see the module comment). */
function isDeterministic(atoms: readonly Atom[]): boolean {
  for (let i = 0; i < atoms.length; i++) {
    const atom = atoms[i] as Atom;
    if (atom.min === atom.max) continue;
    for (let j = i + 1; j < atoms.length; j++) {
      const next = atoms[j] as Atom;
      if (next.max > 0 && intersects(atom.set, next.set)) return false;
      if (next.min >= 1) break;
    }
  }
  return true;
}

function single(cp: number): CharSet {
  return [[cp, cp]];
}

function normalize(ranges: readonly Range[]): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i] as Range;
    const [blo, bhi] = b[j] as Range;
    if (ahi < blo) i++;
    else if (bhi < alo) j++;
    else return true;
  }
  return false;
}
