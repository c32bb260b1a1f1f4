/** The DAG shapes the scheduling benches submit: chain, wide and diamond, of script nodes with no steps. */

/**
 * `count` nodes targeting the `sim` tag: `chain` (each after the one before), `wide` (all independent) or
 * `diamond` (a top, `count - 2` middles after it, and a bottom after the first 1,000 middles).
 */
export function shape(kind: string, count: number): unknown[] {
  const node = (id: string, after: string[] = []) => ({
    id,
    kind: "script",
    target: { tags: ["sim"] },
    steps: [],
    after,
  });
  if (kind === "chain") return Array.from({ length: count }, (_, i) => node(`n${i}`, i ? [`n${i - 1}`] : []));
  if (kind === "wide") return Array.from({ length: count }, (_, i) => node(`n${i}`));
  return [
    node("top"),
    ...Array.from({ length: count - 2 }, (_, i) => node(`m${i}`, ["top"])),
    node("bottom", Array.from({ length: Math.min(1000, count - 2) }, (_, i) => `m${i}`)),
  ];
}
