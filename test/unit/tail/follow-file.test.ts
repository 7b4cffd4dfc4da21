import { appendFileSync, mkdtempSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followFile } from '../../../src/tail/follow-file.js';

async function waitFor(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Follows a fresh file holding `initial`; `lines` collects `line:text` as they come. */
async function follow(initial: string, from: 'start' | { lastLines: number } = 'start') {
  const path = join(mkdtempSync(join(tmpdir(), 'callguard-follow-')), 'decisions.log');
  writeFileSync(path, initial);
  const lines: string[] = [];
  const notes: string[] = [];
  const follower = await followFile(path, {
    from,
    onLine: (place, bytes) => lines.push(`${place.line}:${bytes.toString()}`),
    onNote: (n) => notes.push(n),
    pollMs: 20,
  });
  return { path, lines, notes, follower };
}

describe('followFile', () => {
  it('reads what is there, then what is appended, a line written in pieces once whole', async () => {
    const { path, lines, follower } = await follow('a\n');
    await waitFor('a', () => lines.length === 1);
    appendFileSync(path, 'b\nc');
    await waitFor('b', () => lines.length === 2);
    appendFileSync(path, 'c\n');
    await waitFor('ccc', () => lines.length === 3);
    await follower.stop();
    expect(lines).toEqual(['1:a\n', '2:b\n', '3:cc\n']);
  });

  it('starts at the last lines, numbering them as in the file', async () => {
    const { lines, follower } = await follow('a\nb\nc\nd\n', { lastLines: 2 });
    await waitFor('c and d', () => lines.length === 2);
    await follower.stop();
    expect(lines).toEqual(['3:c\n', '4:d\n']);
  });

  it.each([
    {
      name: 'rename + new file, the old one written after the rename',
      replace: (path: string) => {
        renameSync(path, `${path}.000001`);
        appendFileSync(`${path}.000001`, 'late\n');
        writeFileSync(path, 'new1\n');
      },
      expected: ['1:old\n', '2:late\n', '1:new1\n', '2:new2\n'],
      note: /replaced by a new file/,
    },
    {
      name: 'removed, then created again later',
      replace: (path: string) => {
        unlinkSync(path);
        setTimeout(() => writeFileSync(path, 'new1\n'), 60);
      },
      expected: ['1:old\n', '1:new1\n', '2:new2\n'],
      note: /appeared again/,
    },
    {
      // As with tail -F, a truncation shows as a file shorter than what was read.
      name: 'truncated (copytruncate)',
      replace: (path: string) => {
        truncateSync(path, 0);
        appendFileSync(path, 'new1\n');
      },
      initial: 'a line longer than new1\n',
      expected: ['1:a line longer than new1\n', '1:new1\n', '2:new2\n'],
      note: /truncated/,
    },
  ])('$name: the old file to its end, then the new one from its start', async ({ replace, expected, note, ...row }) => {
    const { path, lines, notes, follower } = await follow('initial' in row ? row.initial : 'old\n');
    await waitFor('old', () => lines.length === 1);
    replace(path);
    await waitFor('new1', () => lines.some((l) => l.endsWith('new1\n')));
    appendFileSync(path, 'new2\n');
    await waitFor('new2', () => lines.length === expected.length);
    await follower.stop();
    expect(lines).toEqual(expected);
    expect(notes.join('\n')).toMatch(note);
  });

  it('hands out the unterminated end of a replaced file as it is', async () => {
    const { path, lines, follower } = await follow('a\ncut sh');
    await waitFor('a', () => lines.length === 1);
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'b\n');
    await waitFor('b', () => lines.length === 3);
    await follower.stop();
    expect(lines).toEqual(['1:a\n', '2:cut sh', '1:b\n']);
  });

  it('throws when the file cannot be opened', async () => {
    await expect(followFile('/nonexistent/decisions.log', { from: 'start', onLine: () => {}, onNote: () => {} })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('two rotations between two looks: the file rotated in between is read whole, in order', async () => {
    const { path, lines, follower } = await follow('a1\n');
    await waitFor('a1', () => lines.length === 1);
    // Synchronously, so no check runs in between (a burst with a small rotate.maxBytes).
    appendFileSync(path, 'a2\n');
    renameSync(path, `${path}.000001`);
    writeFileSync(path, 'b1\nb2\n');
    renameSync(path, `${path}.000002`);
    writeFileSync(path, 'c1\n');
    await waitFor('c1', () => lines.some((l) => l.endsWith('c1\n')));
    await follower.stop();
    expect(lines).toEqual(['1:a1\n', '2:a2\n', '1:b1\n', '2:b2\n', '1:c1\n']);
  });

  it('logrotate `create` then SIGHUP: lines the writer still appends to the old file before it reopens are read', async () => {
    const { path, lines, follower } = await follow('a1\n');
    await waitFor('a1', () => lines.length === 1);
    renameSync(path, `${path}.1`);
    writeFileSync(path, ''); // logrotate `create`: an empty file, before the writer got its signal
    await new Promise((resolve) => setTimeout(resolve, 100)); // several looks at the empty file
    appendFileSync(`${path}.1`, 'a2\n'); // still written to the old file
    await waitFor('a2', () => lines.length === 2);
    appendFileSync(path, 'start-after-reopen\n');
    await waitFor('the new file', () => lines.length === 3);
    await follower.stop();
    expect(lines).toEqual(['1:a1\n', '2:a2\n', '1:start-after-reopen\n']);
  });
});
