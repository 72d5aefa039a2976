import { describe, expect, it } from 'vitest';
import type { Sample } from '@ssmb/protocols';
import { PairSampler } from './pair_sampler.ts';
import { Rng } from './rng.ts';

const samples: Sample[] = [];
for (let s = 0; s < 6; s++) for (const modality of ['VIS', 'VIS', 'NIR', 'THERMAL']) samples.push({ path: `/x/${s}/${modality}`, subject: `s${s}`, modality });

describe('PairSampler', () => {
  it('anchors on VIS, labels identity matches, ~half positives, partners of every modality', () => {
    const sampler = new PairSampler(samples, 7);
    const b = sampler.next(2000);
    let pos = 0;
    const partnerMods = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      expect(samples[b.anchors[i]].modality).toBe('VIS');
      expect(b.anchors[i]).not.toBe(b.partners[i]);
      const same = samples[b.anchors[i]].subject === samples[b.partners[i]].subject;
      expect(b.labels[i]).toBe(same ? 1 : 0);
      pos += b.labels[i];
      partnerMods.add(samples[b.partners[i]].modality);
    }
    expect(pos / 2000).toBeGreaterThan(0.45);
    expect(pos / 2000).toBeLessThan(0.55);
    expect([...partnerMods].sort()).toEqual(['NIR', 'THERMAL', 'VIS']);
  });

  it('restoring the RNG state replays the same batches', () => {
    const a = new PairSampler(samples, 3);
    a.next(8);
    const saved = a.rng.state;
    const x = a.next(8);
    const b = new PairSampler(samples, 99);
    b.rng.state = saved;
    expect(b.next(8)).toEqual(x);
  });

  it('rejects splits it cannot sample from', () => {
    expect(() => new PairSampler(samples.filter((s) => s.modality !== 'VIS'), 1)).toThrow(/no VIS images/);
    expect(() => new PairSampler(samples.filter((s) => s.subject === 's0'), 1)).toThrow(/at least 2 identities/);
    expect(() => new Rng(-1)).toThrow(/seed/);
  });
});
