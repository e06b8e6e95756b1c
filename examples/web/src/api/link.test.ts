import { describe, expect, it } from 'vitest';
import { nextLink, parseLinkHeader } from './link';

const ORIGIN = 'http://app.example';
const FIRST = '/chat/sessions?limit=50';

describe('parseLinkHeader', () => {
  it("reads the server's own header", () => {
    expect(parseLinkHeader('</chat/sessions?limit=2&cursor=MTc5Nj>; rel="next"')).toEqual([
      { target: '/chat/sessions?limit=2&cursor=MTc5Nj', rels: ['next'] },
    ]);
  });

  it('reads several links, extra parameters, unquoted and multi-valued rels, any case', () => {
    const h =
      '<https://x.example/a,b>; rel="prev"; title="a, \\"quoted\\"; b", </p?c=1>;REL=Next , </last>; rel="last  first"; type=text/html';
    expect(parseLinkHeader(h)).toEqual([
      { target: 'https://x.example/a,b', rels: ['prev'] },
      { target: '/p?c=1', rels: ['next'] },
      { target: '/last', rels: ['last', 'first'] },
    ]);
  });

  it('gives nothing for an absent or empty header', () => {
    expect(parseLinkHeader(null)).toEqual([]);
    expect(parseLinkHeader(undefined)).toEqual([]);
    expect(parseLinkHeader('   ')).toEqual([]);
  });

  it('skips malformed links and keeps the well-formed ones', () => {
    expect(parseLinkHeader('garbage; rel="next", </ok>; rel="next"')).toEqual([{ target: '/ok', rels: ['next'] }]);
    expect(parseLinkHeader('</a> junk; rel="next", </b>; rel=next')).toEqual([{ target: '/b', rels: ['next'] }]);
    expect(parseLinkHeader('<>; rel="next"')).toEqual([]);
    expect(parseLinkHeader('</never-closed; rel="next"')).toEqual([]);
    expect(parseLinkHeader('</a>; ="next"')).toEqual([]);
  });

  it('only the first rel parameter counts', () => {
    expect(parseLinkHeader('</a>; rel="prev"; rel="next"')).toEqual([{ target: '/a', rels: ['prev'] }]);
  });
});

describe('nextLink', () => {
  it('finds rel="next" among other links and returns a same-origin path', () => {
    const h = '</chat/sessions?limit=50>; rel="first", </chat/sessions?limit=50&cursor=abc%3D>; rel="next"';
    expect(nextLink(h, FIRST, ORIGIN)).toBe('/chat/sessions?limit=50&cursor=abc%3D');
  });

  it('is null without a next link', () => {
    expect(nextLink(null, FIRST, ORIGIN)).toBeNull();
    expect(nextLink('</chat/sessions?limit=50>; rel="prev"', FIRST, ORIGIN)).toBeNull();
    expect(nextLink('</chat/sessions?cursor=x>; rel="nextish"', FIRST, ORIGIN)).toBeNull();
  });

  it('is null for a malformed header', () => {
    expect(nextLink('/chat/sessions?cursor=x; rel="next"', FIRST, ORIGIN)).toBeNull();
    expect(nextLink('<http://[bad>; rel="next"', FIRST, ORIGIN)).toBeNull();
  });

  it('resolves a relative target against the request and accepts an absolute same-origin one', () => {
    expect(nextLink('<?limit=50&cursor=q>; rel="next"', FIRST, ORIGIN)).toBe('/chat/sessions?limit=50&cursor=q');
    expect(nextLink('<sessions?cursor=q>; rel="next"', FIRST, ORIGIN)).toBe('/chat/sessions?cursor=q');
    expect(nextLink(`<${ORIGIN}/chat/sessions?cursor=q>; rel="next"`, FIRST, ORIGIN)).toBe('/chat/sessions?cursor=q');
  });

  it('refuses a target on another origin (the bearer token would go there)', () => {
    expect(nextLink('<https://evil.example/chat/sessions?cursor=q>; rel="next"', FIRST, ORIGIN)).toBeNull();
    expect(nextLink('<//evil.example/x>; rel="next"', FIRST, ORIGIN)).toBeNull();
  });
});
