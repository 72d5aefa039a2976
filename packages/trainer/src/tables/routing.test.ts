import { describe, expect, it } from 'vitest';
import { formatRoutingSummary, summariseRouting, type RoutingCountRow } from './routing.ts';

const c = (block: string, modality: string, expert: number, count: number): RoutingCountRow => ({ row: 'n4', column: 'uni', block, modality, expert, count });

describe('routing summary', () => {
  it('sums counts, finds each modality\'s main expert and orders blocks like the network', () => {
    const s = summariseRouting([
      c('layer1', 'NIR', 0, 3), c('layer1', 'NIR', 2, 9), c('stem', 'VIS', 1, 10), c('stem', 'THERMAL', 3, 4),
      c('stem', 'THERMAL', 3, 4), // a second fold adds up
      c('layer1', 'VIS', 1, 5),
    ]);
    expect(s).toHaveLength(1);
    expect(s[0].blocks.map((b) => b.block)).toEqual(['stem', 'layer1']);
    const stem = s[0].blocks[0].modalities;
    expect(stem.map((m) => m.modality)).toEqual(['VIS', 'THERMAL']);
    expect(stem[1]).toEqual({ modality: 'THERMAL', total: 8, counts: [0, 0, 0, 8], top: 3, share: 1 });
    const nir = s[0].blocks[1].modalities.find((m) => m.modality === 'NIR')!;
    expect(nir.top).toBe(2);
    expect(nir.share).toBeCloseTo(0.75, 12);
    const text = formatRoutingSummary(s, { rows: { n4: 'SSMB N=4' }, columns: { uni: 'VIS-UNIVERSAL' } });
    expect(text).toContain('SSMB N=4 on VIS-UNIVERSAL (4 experts)');
    expect(text).toMatch(/layer1\s+VIS -> e1 \(100%\)\s+NIR -> e2 \(75%\)/);
  });

  it('rejects negative expert indices', () => {
    expect(() => summariseRouting([c('stem', 'VIS', -1, 1)])).toThrow(/expert -1/);
  });
});
