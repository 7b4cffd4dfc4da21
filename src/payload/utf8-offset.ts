/** Byte index of the first ill-formed UTF-8 sequence (Unicode 15 Table 3-7); only called after decoding failed. */
export function invalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    const [n, lo, hi] =
      c < 0x80
        ? [0, 0, 0]
        : c >= 0xc2 && c <= 0xdf
          ? [1, 0x80, 0xbf]
          : c === 0xe0
            ? [2, 0xa0, 0xbf]
            : c === 0xed
              ? [2, 0x80, 0x9f]
              : c >= 0xe1 && c <= 0xef
                ? [2, 0x80, 0xbf]
                : c === 0xf0
                  ? [3, 0x90, 0xbf]
                  : c === 0xf4
                    ? [3, 0x80, 0x8f]
                    : c >= 0xf1 && c <= 0xf3
                      ? [3, 0x80, 0xbf]
                      : [-1, 0, 0];
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const cont = b[i + k];
      if (cont === undefined || cont < (k === 1 ? lo : 0x80) || cont > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}
