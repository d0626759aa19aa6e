/** The `--listen HOST:PORT` address of `spear agent` and `spear run`. */
import { UsageError } from '../errors.js';

/** `--listen HOST:PORT` → host (IPv6 brackets off) and port; a malformed one throws UsageError. */
export function listenAddressOf(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null) throw new UsageError(`--listen ${listen}: expected HOST:PORT, such as 0.0.0.0:7070`);
  const port = Number(match[2]);
  if (port > 65_535) throw new UsageError(`--listen ${listen}: port ${match[2]} is out of range (0 to 65535; 0 picks a free port)`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
