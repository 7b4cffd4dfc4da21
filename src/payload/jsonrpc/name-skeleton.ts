/** Compatibility forms (UAX #15 NFKC), diacritics and invisible characters dropped, lower-cased. */
function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\p{M}\p{Default_Ignorable_Code_Point}]/gu, '')
    .normalize('NFKC')
    .toLowerCase();
}

// Look-alikes of Latin letters and digits (a subset of Unicode's confusables.txt, UTS #39 §4) that
// survive NFKC: Cyrillic and Greek letters mostly, then ASCII pairs read alike in many fonts.
const LOOK_ALIKES: ReadonlyArray<readonly [RegExp, string]> = [
  [/[аɑα]/gu, 'a'],
  [/[вβ]/gu, 'b'],
  [/[сϲ]/gu, 'c'],
  [/[ԁ]/gu, 'd'],
  [/[еєε]/gu, 'e'],
  [/[ɡ]/gu, 'g'],
  [/[һ]/gu, 'h'],
  [/[іıιӏ1|]/gu, 'l'],
  [/[ј]/gu, 'j'],
  [/[кκ]/gu, 'k'],
  [/[м]/gu, 'm'],
  [/[ոп]/gu, 'n'],
  [/[оοօ0]/gu, 'o'],
  [/[рρ]/gu, 'p'],
  [/[ԛ]/gu, 'q'],
  [/[ѕ]/gu, 's'],
  [/[τт]/gu, 't'],
  [/[υս]/gu, 'u'],
  [/[νѵ]/gu, 'v'],
  [/[ԝω]/gu, 'w'],
  [/[хχ]/gu, 'x'],
  [/[уγ]/gu, 'y'],
  [/[ᴢ]/gu, 'z'],
  [/[‐‑‒–—―−]/gu, '-'],
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/i/g, 'l'],
];

/**
 * A name reduced to how it reads: {@link foldName} (compatibility forms, diacritics, invisible
 * characters, case), then look-alike characters mapped to one Latin letter. Two names with one skeleton
 * are confusable; configured tools must not share one.
 */
export function nameSkeleton(name: string): string {
  let s = foldName(name);
  for (const [pattern, to] of LOOK_ALIKES) s = s.replace(pattern, to);
  return s;
}
