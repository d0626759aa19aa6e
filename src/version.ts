import { readFileSync } from 'node:fs';

/** spear's version, from the nearest package.json above this module (dist/ or a test build). */
export const spearVersion: string = (() => {
  for (const relative of ['../package.json', '../../package.json']) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8'));
    } catch {
      continue;
    }
    if (typeof raw === 'object' && raw !== null && 'name' in raw && raw.name === 'spear' && 'version' in raw && typeof raw.version === 'string') {
      return raw.version;
    }
  }
  return '0.0.0';
})();
