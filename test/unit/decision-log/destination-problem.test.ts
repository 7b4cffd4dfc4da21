import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { destinationProblem } from '../../../src/decision-log/destination-problem.js';

// Runs as root here, so "not writable" (EACCES) is not shown; the other outcomes are.
describe('destinationProblem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-dest-'));
  writeFileSync(join(dir, 'existing.log'), '');
  writeFileSync(join(dir, 'a-file'), '');
  mkdirSync(join(dir, 'a-dir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'a-dir'), join(dir, 'dir-link'));
  symlinkSync(join(dir, 'a-file'), join(dir, 'file-link'));

  it.each([
    { name: 'stdout', destination: 'stdout', problem: undefined },
    { name: 'stderr', destination: 'stderr', problem: undefined },
    { name: 'an existing file', destination: join(dir, 'existing.log'), problem: undefined },
    { name: 'a new file in an existing directory', destination: join(dir, 'new.log'), problem: undefined },
    { name: 'a new file under missing directories', destination: join(dir, 'x', 'y', 'new.log'), problem: undefined },
    { name: '/dev/null', destination: '/dev/null', problem: undefined },
    { name: 'a directory', destination: join(dir, 'a-dir'), problem: /"[^"]*a-dir" is a directory$/ },
    { name: 'under a file', destination: join(dir, 'a-file', 'd.log'), problem: /^cannot create "[^"]*a-file\/d\.log": "[^"]*a-file" is not a directory$/ },
    { name: 'deep under a file', destination: join(dir, 'a-file', 'x', 'd.log'), problem: /"[^"]*a-file" is not a directory$/ },
    { name: 'a FIFO without a reader (never blocks)', destination: join(dir, 'fifo'), problem: /^cannot open "[^"]*fifo" for appending: ENXIO/ },
    { name: 'through a symlink to a directory', destination: join(dir, 'dir-link', 'd.log'), problem: undefined },
    { name: 'under a symlink to a file', destination: join(dir, 'file-link', 'd.log'), problem: /"[^"]*file-link" is not a directory$/ },
  ])('$name', ({ destination, problem }) => {
    const found = destinationProblem(destination);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('creates nothing', () => {
    expect(destinationProblem(join(dir, 'p', 'q', 'r.log'))).toBeUndefined();
    expect(existsSync(join(dir, 'p'))).toBe(false);
  });
});
