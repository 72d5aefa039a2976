// Learning rate at a step: linear warm-up, then constant, cosine (to minLr at the last step) or step decay.
import type { Config } from '../config.ts';

export function learningRate(optim: Config['optim'], step: number, totalSteps: number): number {
  const { lr, warmup } = optim;
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const t = step - warmup;
  switch (optim.schedule) {
    case 'constant':
      return lr;
    case 'step':
      return lr * optim.gamma ** Math.floor(t / optim.stepSize);
    case 'cosine': {
      const span = Math.max(1, totalSteps - warmup);
      const frac = Math.min(1, t / span);
      return optim.minLr + 0.5 * (lr - optim.minLr) * (1 + Math.cos(Math.PI * frac));
    }
  }
}
