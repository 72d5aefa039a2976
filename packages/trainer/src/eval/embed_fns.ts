// Embedding functions for evaluation: the SSMB student (with its routing) and the frozen backbone alone.
import type { HFRModel, IResNet } from '@ssmb/core';
import type { EmbedFn } from './evaluate_fold.ts';

export function hfrEmbedFn(model: HFRModel): EmbedFn {
  return (x) => {
    const out = model.forward(x);
    return { embedding: out.embedding, experts: out.routings.map((r) => ({ block: r.tap, expert: r.expert })) };
  };
}

export function baselineEmbedFn(backbone: IResNet): EmbedFn {
  backbone.setFrozen(true);
  return (x) => ({ embedding: backbone.forward(x) });
}
