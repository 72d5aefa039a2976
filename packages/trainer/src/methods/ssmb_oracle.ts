// Method `ssmb-oracle`: the SSMB blocks with the expert chosen by each image's modality label instead of a
// router, one expert per modality of the training protocol (VIS included), in the readers' order. The
// upper bound for learned routing: how much does the router leave on the table?
import { registerMethod, trainingModalities, type LabelSelection, type MethodConfig } from './method.ts';
import { blockOptions } from './ssmb.ts';

function oracleSelection(c: MethodConfig): LabelSelection {
  const modalities = trainingModalities(c.dataset.protocol);
  const N = modalities.length;
  return {
    modalities, experts: N,
    rows: (ms, what) => {
      const rows = new Float32Array(ms.length * N);
      ms.forEach((m, i) => {
        const k = modalities.indexOf(m);
        if (k < 0) throw new Error(`${what}: image ${i} is ${JSON.stringify(m)}; method ssmb-oracle has one expert for each of ${modalities.join(', ')} (the training images of ${c.dataset.protocol})`);
        rows[i * N + k] = 1;
      });
      return rows;
    },
  };
}

export const SSMB_ORACLE = registerMethod({
  name: 'ssmb-oracle',
  description: 'SSMB blocks whose expert is chosen by the modality label (one expert per training modality): the upper bound for routing',
  trains: true,
  trainable: 'the SSMB experts (one per modality; no router)',
  network: 'a block after each configured tap: y = x + E_m(x), m the image\'s modality',
  losses: ['cc', 'ts'],
  keys: ['ssmb.hiddenWidth', 'ssmb.positions', 'ssmb.expertKind', 'loss.margin', 'loss.lambdaTs'],
  label: { training: true, inference: true },
  model: (c) => ({ ...blockOptions(c), numExperts: trainingModalities(c.dataset.protocol).length, selection: 'label' }),
  selection: oracleSelection,
});
