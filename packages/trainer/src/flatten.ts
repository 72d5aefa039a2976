// The one "nested config -> dotted keys" walker. Pure (no node imports), so the dashboard's browser app
// imports it too (`@ssmb/trainer/flatten`). Arrays and null are leaves; a key may itself contain dots
// (table configs write `ssmb.numExperts: 1` inside a nested block): the result joins them either way.

/** `{ ssmb: { numExperts: 4, positions: ['stem'] } }` -> `{ 'ssmb.numExperts': 4, 'ssmb.positions': ['stem'] }`. */
export function flattenConfigValues(obj: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  walk(obj, prefix, (k, v) => (out[k] = v));
  return out;
}

/**
 * The same keys with every leaf a scalar: arrays and null become their JSON text. What the params table
 * stores and what run labels and config diffs print (`ssmb.positions=["stem","layer1"]`).
 */
export function flattenConfig(obj: unknown, prefix = ''): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  walk(obj, prefix, (k, v) => (out[k] = typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : JSON.stringify(v)));
  return out;
}

/** The value at a dotted key of a nested config (`ssmb.numExperts`); undefined when any step is missing. */
export function configValueAt(obj: unknown, dotted: string): unknown {
  // own keys only: `toString` or `constructor` is no config key of anything
  return dotted.split('.').reduce<unknown>((cur, k) => (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, k) ? (cur as Record<string, unknown>)[k] : undefined), obj);
}

/** The dotted keys of a config (scalar and array leaves), sorted. */
export function configKeysOf(obj: unknown): string[] {
  return Object.keys(flattenConfigValues(obj)).sort();
}

function walk(v: unknown, prefix: string, leaf: (key: string, value: unknown) => void): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, c] of Object.entries(v)) walk(c, prefix ? `${prefix}.${k}` : k, leaf);
  } else if (prefix) leaf(prefix, v);
}
