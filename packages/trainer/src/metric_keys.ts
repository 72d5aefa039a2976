// The names of the per-step metrics the trainer logs, in one place: the training loop and the SSMB step
// write them, the dashboard groups and orders its charts by them, and test seed data uses them (so a
// test store holds exactly what a real run writes). Pure: no node imports.
import { metricDirection } from './tables/metrics.ts';

/** Per-step keys of a training run (SSMB step + loop), and of backbone pre-training (loss, lr). */
export const TRAIN_METRICS = {
  loss: 'loss',
  lossCc: 'loss/cc',
  lossTs: 'loss/ts',
  lossLb: 'loss/lb',
  lr: 'lr',
  imgPerSec: 'perf/img_per_sec',
  stepSeconds: 'perf/step_seconds',
  /** The objective on train.lossPairs FIXED pairs, forward only (train.lossEvery): at step 0, every
   *  lossEvery steps and the last step; its changes reflect the parameters alone, not the batch drawn. */
  lossFixed: 'loss/fixed',
  lossFixedCc: 'loss/fixed/cc',
  lossFixedTs: 'loss/fixed/ts',
  lossFixedLb: 'loss/fixed/lb',
  /** Seconds one fixed-pair estimate took (not part of perf/step_seconds). */
  lossFixedSeconds: 'perf/loss_fixed_seconds',
} as const;

/** Router entropy of one SSMB block (nats), per step. */
export const routingEntropyKey = (tap: string) => `routing/${tap}/entropy`;
/** Share of the batch routed to expert k of one SSMB block, per step. */
export const routingShareKey = (tap: string, k: number) => `routing/${tap}/share/${k}`;
/** An evaluation metric logged at a step during training (`evalEvery`). */
export const evalStepKey = (metric: string) => `eval/${metric}`;

/** Chart groups of the run page, in display order; `metricGroup` puts every key in one of them. */
export const METRIC_GROUPS = ['losses', 'loss-fixed', 'eval', 'routing', 'lr', 'perf', 'other'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/** The fixed-pair estimate and its parts: a curve of its own (a point every lossEvery steps, not smoothed). */
export const isFixedLossKey = (key: string) => key === TRAIN_METRICS.lossFixed || key.startsWith(`${TRAIN_METRICS.lossFixed}/`);

export function metricGroup(key: string): MetricGroup {
  if (isFixedLossKey(key)) return 'loss-fixed';
  if (key === TRAIN_METRICS.loss || key.startsWith('loss/')) return 'losses';
  if (key.startsWith('eval/')) return 'eval';
  if (key.startsWith('routing/')) return 'routing';
  if (key === TRAIN_METRICS.lr) return 'lr';
  if (key.startsWith('perf/')) return 'perf';
  return 'other';
}

/**
 * Which direction is better for a per-step key, for "best" beside "last": lower for losses and step time,
 * higher for throughput; an eval/ key goes the way its evaluation metric does in the metric catalogue
 * (tables/metrics.ts); null when neither is (lr, routing, an eval/ key the catalogue does not know).
 */
export function metricBetter(key: string): 'lower' | 'higher' | null {
  if (metricGroup(key) === 'losses' || metricGroup(key) === 'loss-fixed' || key === TRAIN_METRICS.stepSeconds || key === TRAIN_METRICS.lossFixedSeconds) return 'lower';
  if (key === TRAIN_METRICS.imgPerSec) return 'higher';
  if (key.startsWith('eval/')) return metricDirection(key.slice('eval/'.length));
  return null;
}

/** Units of a per-step key for axis titles ('' when it has none). */
export function metricUnit(key: string): string {
  if (key === TRAIN_METRICS.imgPerSec) return 'images/s';
  if (key === TRAIN_METRICS.stepSeconds || key === TRAIN_METRICS.lossFixedSeconds) return 's';
  if (key.endsWith('/entropy')) return 'nats';
  if (key.includes('/share/')) return 'fraction of batch';
  return '';
}
