import { errnoOf, messageOf } from '../errors.js';

/**
 * A failed file operation in words for a one-line error: the errno code
 * and its meaning ("ENOSPC: no space left on the device"), or the
 * message of anything that is not a system error. Pure.
 */
export function problemOf(error: unknown): string {
  const code = errnoOf(error);
  if (code === undefined) return messageOf(error);
  return errnoText[code] ?? code;
}

/**
 * The problem of a failed result write with what to do about it, when
 * there is something to do ("ENOSPC: no space left on the device: free
 * space there, or choose another path"). Pure.
 */
export function withFix(error: unknown): string {
  const fix = fixes[errnoOf(error) ?? ''];
  return fix === undefined ? problemOf(error) : `${problemOf(error)}: ${fix}`;
}

const errnoText: Record<string, string> = {
  ENOSPC: 'ENOSPC: no space left on the device',
  EDQUOT: 'EDQUOT: disk quota exceeded',
  EFBIG: 'EFBIG: file too large for this file system or limit',
  EACCES: 'EACCES: permission denied',
  EPERM: 'EPERM: not permitted',
  EROFS: 'EROFS: read-only file system',
  ENOTDIR: 'ENOTDIR: a part of the path is not a directory',
  ELOOP: 'ELOOP: too many symbolic links',
  EPIPE: 'EPIPE: the reader went away',
  EISDIR: 'EISDIR: is a directory',
  EIO: 'EIO: input/output error',
};

const fixes: Record<string, string> = {
  ENOSPC: 'free space there, or choose another path',
  EDQUOT: 'free space there, or choose another path',
  EFBIG: 'choose another path',
  EACCES: 'make it writable, or choose another path',
  EPERM: 'make it writable, or choose another path',
  EROFS: 'choose another path',
};
