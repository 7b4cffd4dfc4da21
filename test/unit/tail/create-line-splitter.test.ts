import { mkdtempSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../../src/tail/create-line-splitter.js';
import { lastLinesOffset } from '../../../src/tail/last-lines-offset.js';

describe('createLineSplitter', () => {
  it.each([
    { name: 'whole lines', chunks: ['a\nb\n'], flushed: false, lines: ['a\n', 'b\n'] },
    { name: 'a line across chunks', chunks: ['a\nb', 'c', 'd\ne\n'], flushed: false, lines: ['a\n', 'bcd\n', 'e\n'] },
    { name: 'a partial line waits', chunks: ['a\nb'], flushed: false, lines: ['a\n'] },
    { name: 'a partial line flushed', chunks: ['a\nb'], flushed: true, lines: ['a\n', 'b'] },
    { name: 'a newline alone', chunks: ['ab', '\n'], flushed: true, lines: ['ab\n'] },
    { name: 'empty lines kept', chunks: ['\n\n'], flushed: true, lines: ['\n', '\n'] },
  ])('$name', ({ chunks, flushed, lines }) => {
    const seen: string[] = [];
    const splitter = createLineSplitter((bytes) => seen.push(bytes.toString()));
    const reused = Buffer.alloc(16);
    for (const chunk of chunks) {
      // The same memory for every chunk, as a reader reusing its buffer: the splitter must copy what waits.
      const n = reused.write(chunk);
      splitter.push(reused.subarray(0, n));
      reused.fill(0x78);
    }
    if (flushed) splitter.flush();
    expect(seen).toEqual(lines);
  });
});

describe('lastLinesOffset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-last-'));
  it.each([
    { name: 'more lines than asked', text: 'a\nb\nc\nd\n', count: 2, rest: 'c\nd\n', before: 2 },
    { name: 'fewer lines than asked', text: 'a\nb\n', count: 10, rest: 'a\nb\n', before: 0 },
    { name: 'a partial last line counts', text: 'a\nb\nc', count: 2, rest: 'b\nc', before: 1 },
    { name: 'zero: at the end', text: 'a\nb\n', count: 0, rest: '', before: 2 },
    { name: 'zero with a partial line: at its start', text: 'a\nb', count: 0, rest: 'b', before: 1 },
    { name: 'an empty file', text: '', count: 3, rest: '', before: 0 },
    {
      name: 'many lines over several reads',
      text: Array.from({ length: 30000 }, (_, i) => `line ${i}\n`).join(''),
      count: 3,
      rest: 'line 29997\nline 29998\nline 29999\n',
      before: 29997,
    },
  ])('$name', async ({ text, count, rest, before }) => {
    const path = join(dir, 'f');
    await writeFile(path, text);
    const file = await open(path);
    try {
      const { offset, linesBefore } = await lastLinesOffset(file, count);
      expect(text.slice(offset)).toBe(rest);
      expect(linesBefore).toBe(before);
    } finally {
      await file.close();
    }
  });
});

describe('createLineSplitter: bounded memory', () => {
  it('a line without a newline past 1 MiB is handed out cut, the rest skipped up to its newline', () => {
    const lines: Buffer[] = [];
    const splitter = createLineSplitter((l) => lines.push(Buffer.from(l)));
    const zeros = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 12; i++) splitter.push(zeros); // 3 MiB, no newline
    splitter.push(Buffer.from('still the long line\nnext\n'));
    expect(lines.map((l) => l.length)).toEqual([1024 * 1024, 5]);
    expect(lines[1]?.toString()).toBe('next\n');
  });
});
