import { UsageError } from '../errors.js';

/** The request flags of `spear run` / `spear validate` (wrk, hey, curl habits). */
export interface RequestFlags {
  /** -m/--method */
  readonly method?: string | undefined;
  /** -H/--header 'Name: value', repeatable. */
  readonly headers?: readonly string[] | undefined;
  /** -b/--body, or the text of --body-file. */
  readonly body?: string | undefined;
  /** --content-type */
  readonly contentType?: string | undefined;
}

/** Whether any request flag was given. */
export function hasRequestFlags(flags: RequestFlags): boolean {
  return flags.method !== undefined || (flags.headers?.length ?? 0) > 0 || flags.body !== undefined || flags.contentType !== undefined;
}

/** `-H 'Name: value'` flags as a mapping (names as given; the scenario's validation checks them). */
export function headerFlags(flags: RequestFlags): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const header of flags.headers ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H ${JSON.stringify(header)}: expected "Name: value", such as -H 'Authorization: Bearer abc'`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  if (flags.contentType !== undefined) headers['content-type'] = flags.contentType;
  else if (flags.body !== undefined && /^\s*[[{]/.test(flags.body)) headers['content-type'] = 'application/json';
  return headers;
}

/**
 * Applies a full `--target` URL and the request flags to a scenario
 * document (before validation): with no `requests` in the file, the URL's
 * path and query and the flags make the one request (as wrk, hey and
 * autocannon take them), and the target becomes the URL's origin; with
 * `requests`, -H adds a header to each of them and the other flags are
 * refused (the file's requests say their own method and body).
 */
export function applyRequestFlags(root: Record<string, unknown>, flags: RequestFlags): void {
  const headers = headerFlags(flags);
  if (Array.isArray(root.requests)) {
    if (flags.method !== undefined || flags.body !== undefined || flags.contentType !== undefined) {
      throw new UsageError('-m, -b, --body-file and --content-type describe a --target URL\'s request; this scenario file lists its own requests: set them there (-H still adds a header to each)');
    }
    if (Object.keys(headers).length > 0) {
      root.requests = root.requests.map((request: unknown) => isRecord(request) ? { ...request, headers: { ...(isRecord(request.headers) ? request.headers : {}), ...headers } } : request);
    }
    return;
  }
  if (root.flow !== undefined || (root.protocol !== undefined && root.protocol !== 'http')) {
    if (hasRequestFlags(flags)) throw new UsageError('-m, -H, -b, --body-file and --content-type apply to HTTP request load: in a flow, give each http step its method, headers and body');
    return;
  }
  const parsed = typeof root.target === 'string' ? parsedUrl(root.target) : undefined;
  // Credentials or a fragment stay in the target, where validation refuses them with its own message.
  const url = parsed !== undefined && parsed.username === '' && parsed.password === '' && parsed.hash === '' ? parsed : undefined;
  const path = url === undefined || (url.pathname === '/' && url.search === '') ? undefined : `${url.pathname}${url.search}`;
  if (path === undefined && !hasRequestFlags(flags)) return;
  if (url !== undefined) root.target = url.origin;
  root.requests = [{
    ...(flags.method === undefined ? {} : { method: flags.method }),
    path: path ?? '/',
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(flags.body === undefined ? {} : { body: flags.body }),
  }];
}

function parsedUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
