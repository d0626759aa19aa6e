/**
 * Response byte streams for the HTTP differential test (spear's parser
 * against llhttp through node:http): the named edge cases of
 * response-edge-cases.ts and random well-formed responses from
 * response-generator.ts. Nothing is stored on disk; the same seed always
 * gives the same corpus.
 */
import { edgeCases } from './response-edge-cases.js';
import { generatedCase } from './response-generator.js';
import { mutatedCase } from './response-mutator.js';
import { Prng, type ResponseCase } from './response-primitives.js';

export { defaultSeed, seedFromEnv, Prng, type AfterWrite, type ResponseCase, type Truth } from './response-primitives.js';
export { edgeCases } from './response-edge-cases.js';
export { generatedCase } from './response-generator.js';
export { mutatedCase } from './response-mutator.js';

/** The edge cases, then `generated` random well-formed cases, all from `seed`. */
export function buildCorpus(seed: number, generated: number): ResponseCase[] {
  const cases = edgeCases(new Prng(seed ^ 0x9e37_79b9));
  const rng = new Prng(seed);
  for (let index = 0; index < generated; index += 1) cases.push(generatedCase(rng, index));
  return cases;
}

/**
 * Only generated cases (the fuzz bench): `count` of them from `seed`, and
 * after each, with probability `mutate`, a damaged copy (no truth).
 */
export function generatedCorpus(seed: number, count: number, mutate = 0): ResponseCase[] {
  const rng = new Prng(seed);
  const damage = new Prng(seed ^ 0x5bd1_e995);
  const cases: ResponseCase[] = [];
  for (let index = 0; index < count; index += 1) {
    const responseCase = generatedCase(rng, index);
    cases.push(responseCase);
    if (mutate > 0 && damage.chance(mutate)) cases.push(mutatedCase(damage, responseCase, index));
  }
  return cases;
}
