/** The shared secret of the coordinator↔agent link, from --token, --token-file or $SPEAR_TOKEN. */
import { readFile } from 'node:fs/promises';
import { UsageError, messageOf } from '../errors.js';

/**
 * --token, else $SPEAR_TOKEN; --token-file instead of both. An empty one is refused (it would mean
 * "no authentication" by accident). Reads the file, if any; throws UsageError, never exits.
 */
export async function tokenOf(flag: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (flag !== undefined && file !== undefined) throw new UsageError('give --token or --token-file, not both');
  let token = flag ?? process.env.SPEAR_TOKEN;
  if (file !== undefined) {
    try {
      // One line: a trailing newline (echo, editors) is not part of the secret.
      token = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`--token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`);
    }
  }
  if (token === undefined) return undefined;
  const source = file !== undefined ? `--token-file ${file} is` : flag === undefined ? 'SPEAR_TOKEN is set but' : '--token is';
  if (token.trim() === '') throw new UsageError(`${source} empty: give a real secret (e.g. openssl rand -hex 32) or leave it unset on loopback`);
  return token;
}
