// Routing summary: for each SSMB block, which expert each modality's images (gallery and probe) go to. Pure; the
// counts come from the run store's routing tables (summed over folds).
import { compareBlocks, compareModalities } from '../display_order.ts';

export interface RoutingCountRow {
  row: string;
  column: string;
  block: string;
  modality: string;
  expert: number;
  count: number;
}

export interface ModalityRouting {
  modality: string;
  total: number;
  /** counts[expert] */
  counts: number[];
  /** Expert receiving most of this modality, and its share in [0, 1]. */
  top: number;
  share: number;
}

export interface RoutingSummary {
  row: string;
  column: string;
  blocks: Array<{ block: string; modalities: ModalityRouting[] }>;
}

/** Group counts by (row, column), then block, then modality; blocks in network order. */
export function summariseRouting(counts: RoutingCountRow[]): RoutingSummary[] {
  const groups = new Map<string, RoutingCountRow[]>();
  for (const c of counts) {
    if (!Number.isInteger(c.expert) || c.expert < 0) throw new Error(`routing count for block "${c.block}" has expert ${c.expert}; expected an index >= 0`);
    const key = `${c.row}\0${c.column}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  return [...groups.entries()].map(([key, rows]) => {
    const [row, column] = key.split('\0');
    const blocks = [...new Set(rows.map((r) => r.block))].sort(compareBlocks);
    const experts = Math.max(...rows.map((r) => r.expert)) + 1;
    return {
      row,
      column,
      blocks: blocks.map((block) => {
        const mine = rows.filter((r) => r.block === block);
        const modalities = [...new Set(mine.map((r) => r.modality))].sort(compareModalities);
        return {
          block,
          modalities: modalities.map((modality): ModalityRouting => {
            const perExpert = new Array<number>(experts).fill(0);
            for (const r of mine) if (r.modality === modality) perExpert[r.expert] += r.count;
            const total = perExpert.reduce((a, b) => a + b, 0);
            const top = perExpert.indexOf(Math.max(...perExpert));
            return { modality, total, counts: perExpert, top, share: total > 0 ? perExpert[top] / total : 0 };
          }),
        };
      }),
    };
  });
}

/**
 * Terminal text: one block per (row, column); each line a block with "modality -> e<k> (share%)".
 * `labels` maps row/column ids to display labels.
 */
export function formatRoutingSummary(summaries: RoutingSummary[], labels: { rows?: Record<string, string>; columns?: Record<string, string> } = {}): string {
  const out: string[] = [];
  for (const s of summaries) {
    const experts = Math.max(1, ...s.blocks.flatMap((b) => b.modalities.map((m) => m.counts.length)));
    out.push(`${labels.rows?.[s.row] ?? s.row} on ${labels.columns?.[s.column] ?? s.column} (${experts} expert${experts > 1 ? 's' : ''}): modality -> expert (share of its images)`);
    const width = Math.max(6, ...s.blocks.map((b) => b.block.length));
    for (const b of s.blocks) {
      const cells = b.modalities.map((m) => `${m.modality} -> e${m.top} (${(m.share * 100).toFixed(0)}%)`.padEnd(24));
      out.push(`  ${b.block.padEnd(width)}  ${cells.join('').trimEnd()}`);
    }
  }
  return out.join('\n') + (out.length ? '\n' : '');
}
