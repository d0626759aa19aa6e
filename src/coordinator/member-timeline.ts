/**
 * One group's members on one agent over time: joins (+1) and leaves (−1)
 * added in any order; `at` sorts once, then answers by binary search.
 * `forgetBefore` folds the changes older than a moment into a base count,
 * so a long run keeps only the recent history. Single-threaded.
 */
export class MemberTimeline {
  /** Changes since the fold, [atUs, delta]; sorted while #sealed. */
  #changes: [number, number][] = [];
  /** Members after each change of the sorted #changes; stale while #sealed is false. */
  #counts: number[] = [];
  #sealed = true;
  /** Members from every change folded away (all before #foldedBeforeUs). */
  #base = 0;
  #foldedBeforeUs = Number.NEGATIVE_INFINITY;

  add(atUs: number, delta: number): void {
    // A change older than the fold (a lagging report) still counts for every moment asked about since.
    if (atUs < this.#foldedBeforeUs) {
      this.#base += delta;
      for (let index = 0; index < this.#counts.length; index += 1) this.#counts[index] = this.#counts[index]! + delta;
      return;
    }
    this.#changes.push([atUs, delta]);
    this.#sealed = false;
  }

  /**
   * Members joined at `atUs` (a change at exactly `atUs` counts). Exact for
   * any `atUs` at or after the last `forgetBefore` moment; earlier moments
   * read as that moment.
   */
  at(atUs: number): number {
    if (!this.#sealed) this.#seal();
    let low = 0;
    let high = this.#changes.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.#changes[middle]![0] <= atUs) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? this.#base : this.#counts[found]!;
  }

  /** Folds every change before `atUs` into the base count: `at` stays exact from `atUs` on. */
  forgetBefore(atUs: number): void {
    if (atUs <= this.#foldedBeforeUs) return;
    this.#foldedBeforeUs = atUs;
    if (!this.#sealed) this.#seal();
    let kept = 0;
    while (kept < this.#changes.length && this.#changes[kept]![0] < atUs) kept += 1;
    if (kept === 0) return;
    this.#base = this.#counts[kept - 1]!;
    this.#changes = this.#changes.slice(kept);
    this.#counts = this.#counts.slice(kept);
  }

  /** Changes kept (not folded). */
  get size(): number {
    return this.#changes.length;
  }

  #seal(): void {
    this.#changes.sort((a, b) => a[0] - b[0]);
    this.#counts = [];
    let count = this.#base;
    for (const [, delta] of this.#changes) {
      count += delta;
      this.#counts.push(count);
    }
    this.#sealed = true;
  }
}
