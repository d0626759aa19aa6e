/**
 * The text rules of a request spear writes itself: what a path and a
 * header value may hold. Checked once per scenario request, never per send.
 */

/**
 * A request target as it goes on the wire: bytes outside visible ASCII
 * (spaces, controls, non-ASCII) are percent-encoded as UTF-8, as a browser
 * or `new URL()` encodes them; everything else (including `%`, `..` and
 * `?query`) is sent as written.
 */
export function wirePath(path: string): string {
  let encoded = '';
  for (const char of path) {
    const code = char.codePointAt(0)!;
    encoded += code > 0x20 && code < 0x7f ? char : percentEncoded(char);
  }
  return encoded;
}

/** A character's UTF-8 bytes as %XX (a lone surrogate becomes U+FFFD, as TextEncoder does). */
function percentEncoded(char: string): string {
  let encoded = '';
  for (const byte of Buffer.from(char, 'utf8')) encoded += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  return encoded;
}

/**
 * Why a header value cannot be sent, or undefined when it can. CR and LF
 * would end the header (one request becomes two on the wire) and NUL is
 * refused by every server; other text is sent as UTF-8.
 */
export function headerValueProblem(value: string): string | undefined {
  if (value.includes('\r') || value.includes('\n')) return 'a header value cannot hold CR or LF (it would split the request on the wire)';
  if (value.includes('\0')) return 'a header value cannot hold NUL';
  return undefined;
}
