// The run page's chart list from a run's metric keys (groups from the trainer's metricGroup): the
// fixed-pair loss estimate gets its own chart beside the losses, its time its own titled perf chart.
import { describe, expect, it } from 'vitest';
import { metricBetter, metricGroup, metricUnit, TRAIN_METRICS } from '@ssmb/trainer';
import { chartSpecs } from './RunDetail.tsx';

const info = (key: string) => ({ key, value: 1, step: 1, time: 0, points: 1, min: 1, max: 1, group: metricGroup(key), better: metricBetter(key), unit: metricUnit(key) });

describe('run page charts', () => {
  it('loss/fixed and its parts are one chart of their own; perf/loss_fixed_seconds is titled as what it is', () => {
    const keys = [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossFixed, TRAIN_METRICS.lossFixedCc, TRAIN_METRICS.lossFixedTs, TRAIN_METRICS.lossFixedLb,
      TRAIN_METRICS.lr, TRAIN_METRICS.stepSeconds, TRAIN_METRICS.lossFixedSeconds].map(info);
    const specs = chartSpecs(keys as never);
    expect(specs.map((s) => s.id)).toEqual(['losses', 'loss-fixed', 'lr', 'perf-step_seconds', 'perf-loss_fixed_seconds']);
    expect(specs[0].keys).toEqual(['loss', 'loss/cc']);
    expect(specs[1]).toMatchObject({ title: 'Loss on fixed pairs (train.lossEvery)', keys: ['loss/fixed', 'loss/fixed/cc', 'loss/fixed/ts', 'loss/fixed/lb'] });
    expect(specs.map((s) => s.title).slice(3)).toEqual(['Step time', 'Fixed-pair loss estimate time']);
    // a run without the estimate: no such chart
    expect(chartSpecs([info(TRAIN_METRICS.loss)] as never).map((s) => s.id)).toEqual(['losses']);
  });
});
