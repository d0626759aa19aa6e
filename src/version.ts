import { readFileSync } from 'node:fs';

/** spear's version, from package.json (one directory above dist/ and src/). */
export const spearVersion: string = (() => {
  const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version = typeof raw === 'object' && raw !== null && 'version' in raw ? raw.version : undefined;
  return typeof version === 'string' ? version : '0.0.0';
})();
