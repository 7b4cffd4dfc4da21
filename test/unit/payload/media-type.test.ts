import { describe, expect, it } from 'vitest';
import { parseMediaType } from '../../../src/payload/media-type.js';

describe('parseMediaType', () => {
  it.each([
    { name: 'plain', header: 'application/json', parsed: { essence: 'application/json' } },
    { name: 'case-insensitive type', header: 'Application/JSON', parsed: { essence: 'application/json' } },
    { name: 'charset', header: 'application/json; charset=UTF-8', parsed: { essence: 'application/json', charset: 'utf-8' } },
    { name: 'quoted charset', header: 'application/json;charset="utf-8"', parsed: { essence: 'application/json', charset: 'utf-8' } },
    { name: 'other parameter', header: 'application/json; profile=x ; charset=utf-8', parsed: { essence: 'application/json', charset: 'utf-8' } },
    { name: 'empty parameter', header: 'application/json;', parsed: { essence: 'application/json' } },
    { name: 'no subtype', header: 'application', parsed: undefined },
    { name: 'two media types', header: 'application/json, text/plain', parsed: undefined },
    { name: 'two charsets', header: 'application/json; charset=utf-8; charset=latin1', parsed: undefined },
    { name: 'space inside type', header: 'application / json', parsed: undefined },
    { name: 'parameter without value', header: 'application/json; charset', parsed: undefined },
    { name: 'empty', header: '', parsed: undefined },
  ])('$name', ({ header, parsed }) => {
    expect(parseMediaType(header)).toEqual(parsed);
  });
});
