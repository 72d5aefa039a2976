import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.ts';
import { getExpertKind } from './index.ts';
import { checkKind } from './reference.test-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expert kind style', () => {
  const def = getExpertKind('style');
  it('parameters: the keys every existing checkpoint has; He-normal first layer, zero last layer', () => {
    expect(def.params({ channels: 6, numExperts: 3, hidden: 16 }).map((p) => [p.key, p.shape, p.init.type, p.expert])).toEqual([
      ['experts.fc1.weight', [3, 12, 16], 'normal', 'stacked'], ['experts.fc1.bias', [3, 16], 'zeros', 'stacked'],
      ['experts.fc2.weight', [3, 16, 12], 'zeros', 'stacked'], ['experts.fc2.bias', [3, 12], 'zeros', 'stacked'],
    ]);
    expect(def.usesHidden).toBe(true);
    expect(def.spatial).toBeUndefined();
  });
  it.each([1, 3])('N=%i: MLP of the style per selected expert (plain-JS reference), zero at init, ONNX = tfjs', async (N) => {
    await checkKind(def, { channels: 5, numExperts: N, hidden: 7 });
  });
});
