// The per-step metric keys' groups, directions and units: the fixed-pair loss estimate is a group of its
// own (the run page draws it as its own, unsmoothed chart), lower is better, its time is in seconds.
import { describe, expect, it } from 'vitest';
import { isFixedLossKey, METRIC_GROUPS, metricBetter, metricGroup, metricUnit, TRAIN_METRICS } from './metric_keys.ts';

describe('metric keys', () => {
  it('every trainer key has a group in METRIC_GROUPS; loss/fixed and its parts are loss-fixed, the minibatch losses stay losses', () => {
    for (const key of Object.values(TRAIN_METRICS)) expect(METRIC_GROUPS, key).toContain(metricGroup(key));
    for (const key of [TRAIN_METRICS.lossFixed, TRAIN_METRICS.lossFixedCc, TRAIN_METRICS.lossFixedTs, TRAIN_METRICS.lossFixedLb]) {
      expect(metricGroup(key), key).toBe('loss-fixed');
      expect(isFixedLossKey(key)).toBe(true);
      expect(metricBetter(key), key).toBe('lower');
    }
    for (const key of [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossTs, TRAIN_METRICS.lossLb]) expect(metricGroup(key), key).toBe('losses');
    expect(isFixedLossKey('loss/fixedx')).toBe(false);
    expect(metricGroup('loss/fixedx')).toBe('losses');
    expect(metricGroup(TRAIN_METRICS.lossFixedSeconds)).toBe('perf');
    expect(metricUnit(TRAIN_METRICS.lossFixedSeconds)).toBe('s');
    expect(metricBetter(TRAIN_METRICS.lossFixedSeconds)).toBe('lower');
  });
});
