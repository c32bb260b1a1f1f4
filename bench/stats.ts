/** Summaries of timing samples, the same way in every bench. */

/** The samples in ascending order, as a new array. */
export function ascending(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b);
}

/** The sample at fraction `p` of `sorted` (ascending): 0.5 the median, 0.99 the p99 (nearest rank below). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
