// Method `baseline`: the frozen pre-trained network alone. Nothing trains; evaluated as it is.
import { registerMethod } from './method.ts';

export const BASELINE = registerMethod({
  name: 'baseline',
  description: 'the frozen pre-trained network alone (nothing trained)',
  trains: false,
  trainable: 'nothing',
  network: 'unchanged',
  losses: [],
  keys: [],
  label: { training: false, inference: false },
});
