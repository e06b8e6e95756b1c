// RFC 8288 `Link` headers, as the server pages `GET /chat/sessions` with:
//   Link: </chat/sessions?limit=50&cursor=…>; rel="next"

export interface WebLink {
  /** The target exactly as written between `<` and `>`. */
  target: string;
  /** Relation types, lower-cased (`rel="next last"` → ['next', 'last']). */
  rels: string[];
}

const SPACE = /\s/;

/** Reads a quoted-string starting at `s[i] === '"'`; returns the value and the index after it. */
function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\' && j + 1 < s.length) out += s[++j];
    else if (c === '"') return [out, j + 1];
    else out += c;
  }
  return [out, s.length]; // unterminated: take what there is
}

/** Skips to just after the next top-level `,` (outside `<…>` and quotes). */
function skipToNextLink(s: string, i: number): number {
  let angle = false;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '"' && !angle) j = readQuoted(s, j)[1] - 1;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) return j + 1;
  }
  return s.length;
}

/**
 * Parses a `Link` header into its links. Tolerant: a malformed link is
 * skipped, the others are kept; a null or empty header gives [].
 */
export function parseLinkHeader(header: string | null | undefined): WebLink[] {
  const s = header ?? '';
  const links: WebLink[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (SPACE.test(s[i]) || s[i] === ',')) i++;
    if (i >= s.length) break;
    if (s[i] !== '<') {
      i = skipToNextLink(s, i);
      continue;
    }
    const close = s.indexOf('>', i + 1);
    if (close === -1) break;
    const target = s.slice(i + 1, close).trim();
    const rels: string[] = [];
    let ok = target.length > 0;
    i = close + 1;
    // Parameters: *( OWS ";" OWS name [ "=" ( token / quoted-string ) ] )
    for (;;) {
      while (i < s.length && SPACE.test(s[i])) i++;
      if (i >= s.length || s[i] === ',') break;
      if (s[i] !== ';') {
        ok = false;
        break;
      }
      i++;
      const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\*?)\s*/.exec(s.slice(i));
      if (!m) {
        ok = false;
        break;
      }
      const name = m[1].toLowerCase();
      i += m[0].length;
      let value = '';
      if (s[i] === '=') {
        i++;
        while (i < s.length && SPACE.test(s[i])) i++;
        if (s[i] === '"') [value, i] = readQuoted(s, i);
        else {
          const t = /^[^;,\s]*/.exec(s.slice(i))![0];
          value = t;
          i += t.length;
        }
      }
      // Only the first `rel` counts (RFC 8288 §3.3).
      if (name === 'rel' && rels.length === 0) rels.push(...value.toLowerCase().split(/\s+/).filter(Boolean));
    }
    if (ok) links.push({ target, rels });
    else i = skipToNextLink(s, i);
  }
  return links;
}

/**
 * The `rel="next"` target of a `Link` header as a same-origin path + query
 * (`/chat/sessions?limit=50&cursor=…`), resolved against the URL of the
 * request that answered it. A target on another origin is refused (null):
 * the client sends its bearer token to whatever it fetches.
 */
export function nextLink(header: string | null | undefined, requestPath = '/', origin = window.location.origin): string | null {
  const link = parseLinkHeader(header).find((l) => l.rels.includes('next'));
  if (!link) return null;
  let url: URL;
  try {
    url = new URL(link.target, new URL(requestPath, origin));
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  return url.pathname + url.search;
}
