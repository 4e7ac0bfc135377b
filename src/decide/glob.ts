// Path globs for the allow/deny lists (CJW_IMAGE_ALLOW, CJW_BIND_ALLOW, CJW_BIND_DENY): `*` stays
// within one path component, `**` crosses "/". A small matcher of our own, linear in the path, so
// that a hostile 100 KB path cannot make a regex backtrack (and no new dependency is needed).
//
// Semantics (docs/policy.md):
// - `*` matches any run of characters except "/" (also the empty run);
// - `**` matches any run of characters, "/" included;
// - a trailing `/**` also matches the directory itself (`/cvmfs/**` matches `/cvmfs`), and a
//   `/**/` in the middle also matches a single "/" (`/a/**/b` matches `/a/b`);
// - every other character is literal (no `?`, no `[...]`, no escapes: site paths rarely need
//   them, and a literal reading can never widen a list by surprise).

type Token = { readonly kind: 'lit'; readonly ch: string } | { readonly kind: 'star' } | { readonly kind: 'globstar' };

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c !== '*') {
      out.push({ kind: 'lit', ch: c });
      continue;
    }
    if (pattern.charAt(i + 1) === '*') {
      // Any run of three or more stars is one globstar.
      while (pattern.charAt(i + 1) === '*') i++;
      out.push({ kind: 'globstar' });
    } else {
      out.push({ kind: 'star' });
    }
  }
  return out;
}

// A regex, not the string: the bundle keeps its code in a block comment, which that text would end.
const GLOBSTAR_SEGMENT = /\/\*\*\//;

/** The plain-token patterns a glob stands for once the two "zero directories" forms are expanded. */
function expand(pattern: string): string[] {
  let forms = [pattern];
  if (pattern.endsWith('/**')) forms.push(pattern.slice(0, -3) === '' ? '/' : pattern.slice(0, -3));
  // Each `/**/` may also stand for a single "/": expand one occurrence at a time (site lists are
  // short, and a pattern with more than a few of these is unheard of).
  for (;;) {
    const next: string[] = [];
    let grew = false;
    for (const f of forms) {
      next.push(f);
      const at = f.search(GLOBSTAR_SEGMENT);
      if (at >= 0) {
        const collapsed = `${f.slice(0, at)}/${f.slice(at + 4)}`;
        if (!forms.includes(collapsed) && !next.includes(collapsed)) {
          next.push(collapsed);
          grew = true;
        }
      }
    }
    forms = next;
    if (!grew || forms.length > 64) break;
  }
  return forms;
}

/**
 * Simulates the pattern as a set of positions (Thompson-style), one pass over the text:
 * O(len(text) × len(pattern)) whatever the input.
 */
function matchTokens(tokens: readonly Token[], text: string): boolean {
  const n = tokens.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  const close = (set: Uint8Array): void => {
    // Stars may match the empty run: a position in front of a star also stands after it.
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      if (set[i] === 1 && t !== undefined && t.kind !== 'lit') set[i + 1] = 1;
    }
  };
  cur[0] = 1;
  close(cur);
  for (let k = 0; k < text.length; k++) {
    const c = text.charAt(k);
    next.fill(0);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (cur[i] !== 1) continue;
      const t = tokens[i];
      if (t === undefined) continue;
      if (t.kind === 'lit') {
        if (t.ch === c) {
          next[i + 1] = 1;
          any = true;
        }
      } else if (t.kind === 'globstar' || c !== '/') {
        next[i] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

/** True when `path` matches the glob `pattern`. */
export function globMatch(pattern: string, path: string): boolean {
  return expand(pattern).some((form) => matchTokens(tokenize(form), path));
}

/** The first pattern of `patterns` that matches `path`, or undefined. */
export function firstMatch(patterns: readonly string[], path: string): string | undefined {
  return patterns.find((p) => globMatch(p, path));
}
