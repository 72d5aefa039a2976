// Routing per SSMB block as the run page's heatmap and the routing view read it: the modality x expert
// table, its separation score (routingNmi) and the experts no image uses. Pure, so tests run it in node.
import { compareBlocks, compareModalities } from '@ssmb/trainer/display-order';
import type { RoutingRow } from './api.ts';
import { routingNmi } from './format.ts';

export interface BlockRouting {
  block: string;
  modalities: string[];
  experts: number[];
  /** counts[m][e]: images of modalities[m] routed to experts[e], summed over the rows given (folds, protocols). */
  counts: number[][];
  /** routingNmi of counts; null when there is nothing to separate (one modality, or no images). */
  nmi: number | null;
  /** Experts no image of any modality reaches: of 0..numExperts-1 too, so experts absent from the rows count. */
  unused: number[];
}

/** Per block (display order), the table, its NMI and its unused experts. numExperts: the run's N (null: only the experts seen). */
export function blockRouting(rows: RoutingRow[], numExperts: number | null): BlockRouting[] {
  if (numExperts !== null && !(Number.isInteger(numExperts) && numExperts >= 1)) throw new Error(`blockRouting: numExperts must be an integer >= 1 or null, received ${numExperts}`);
  const blocks = [...new Set(rows.map((r) => r.block))].sort(compareBlocks);
  const modalities = [...new Set(rows.map((r) => r.modality))].sort(compareModalities);
  const experts = [...new Set([...rows.map((r) => r.expert), ...Array.from({ length: numExperts ?? 0 }, (_, e) => e)])].sort((a, b) => a - b);
  const mIndex = new Map(modalities.map((m, i) => [m, i]));
  const eIndex = new Map(experts.map((e, i) => [e, i]));
  return blocks.map((block) => {
    const counts = modalities.map(() => experts.map(() => 0));
    for (const r of rows) if (r.block === block) counts[mIndex.get(r.modality)!][eIndex.get(r.expert)!] += r.count;
    const unused = experts.filter((_, e) => counts.every((row) => row[e] === 0));
    return { block, modalities, experts, counts, nmi: routingNmi(counts), unused };
  });
}

/** Rows split per (protocol, fold), in the order first seen (the API sends them sorted). */
export function routingByFold(rows: RoutingRow[]): Array<{ protocol: string; fold: string; rows: RoutingRow[] }> {
  const out = new Map<string, { protocol: string; fold: string; rows: RoutingRow[] }>();
  for (const r of rows) {
    const key = `${r.protocol}\0${r.fold}`;
    if (!out.has(key)) out.set(key, { protocol: r.protocol, fold: r.fold, rows: [] });
    out.get(key)!.rows.push(r);
  }
  return [...out.values()];
}
