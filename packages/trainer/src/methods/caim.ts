// Method `caim` (Conditional Adaptive Instance Modulation, George and Marcel; the per-pair predecessor of
// SSMB): one style modulator per block (the `style` expert form, N = 1) applied to the target-modality
// images only; VIS images pass every block unchanged. Its exact internal equations are not public in what
// we could read: the block form is ours (docs/design.md section 4b). The label decides which images are
// modulated, at training and at inference.
import { registerMethod, trainingModalities, type LabelSelection, type MethodConfig } from './method.ts';
import { blockOptions } from './ssmb.ts';

export const CAIM_SOURCE = 'VIS';

function caimSelection(c: MethodConfig): LabelSelection {
  const modalities = trainingModalities(c.dataset.protocol);
  const targets = modalities.filter((m) => m !== CAIM_SOURCE);
  return {
    modalities: [CAIM_SOURCE, ...targets], experts: 1,
    rows: (ms, what) => Float32Array.from(ms, (m, i) => {
      if (m === CAIM_SOURCE) return 0;
      if (targets.includes(m)) return 1;
      throw new Error(`${what}: image ${i} is ${JSON.stringify(m)}; method caim modulates ${targets.join(', ') || 'no modality'} (the target images of ${c.dataset.protocol}) and passes ${CAIM_SOURCE} unchanged`);
    }),
  };
}

export const CAIM = registerMethod({
  name: 'caim',
  description: 'one style modulator per block applied to target-modality images only; VIS passes unchanged (label-gated)',
  trains: true,
  trainable: 'one modulator per block (the style expert, N = 1)',
  network: 'a block after each configured tap: y = x + E(x) for target-modality images, y = x for VIS',
  losses: ['cc', 'ts'],
  keys: ['ssmb.hiddenWidth', 'ssmb.positions', 'ssmb.expertKind', 'loss.margin', 'loss.lambdaTs'],
  label: { training: true, inference: true },
  model: (c) => ({ ...blockOptions(c), numExperts: 1, selection: 'label' }),
  selection: caimSelection,
});
