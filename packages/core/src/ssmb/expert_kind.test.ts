import { describe, expect, it } from 'vitest';
import { expertParamSpecs, getExpertKind, hasExpertKind, listExpertKinds, registerExpertKind, type ExpertKindDef } from './experts/index.ts';

const stub = (name: string, params: ExpertKindDef['params'] = () => []): ExpertKindDef => ({
  name, description: 'test', usesHidden: false, params,
  modulation: () => { throw new Error('not used'); }, emitModulation: () => { throw new Error('not used'); },
});

describe('expert kind registry', () => {
  it('lists the registered kinds in registration order', () => {
    expect(listExpertKinds().slice(0, 4)).toEqual(['style', 'style+spatial', 'affine', 'affine+spatial']);
    expect(hasExpertKind('affine')).toBe(true);
    expect(hasExpertKind('Affine')).toBe(false);
  });

  it('an unknown kind is an error naming the input and every registered kind', () => {
    expect(() => getExpertKind('conv', 'config key `ssmb.expertKind`')).toThrow(
      'config key `ssmb.expertKind`: unknown expert kind "conv"; registered kinds: style, style+spatial, affine, affine+spatial');
    expect(() => getExpertKind(undefined)).toThrow(/expert kind: unknown expert kind undefined; registered kinds: style/);
  });

  it('refuses duplicate names, bad names and kinds without their functions', () => {
    expect(() => registerExpertKind(stub('style'))).toThrow(/kind "style" is already registered/);
    expect(() => registerExpertKind(stub('Has Space'))).toThrow(/name must be lower-case letters/);
    expect(() => registerExpertKind({ ...stub('no-emit'), emitModulation: undefined } as unknown as ExpertKindDef)).toThrow(/kind "no-emit" has no emitModulation\(\) function/);
    expect(hasExpertKind('no-emit')).toBe(false);
  });

  it('a kind registered by a user is found everywhere the registry is read', () => {
    registerExpertKind(stub('test-user-kind'));
    expect(listExpertKinds()).toContain('test-user-kind');
    expect(getExpertKind('test-user-kind').description).toBe('test');
  });

  it('checks the parameter specs a kind declares', () => {
    const dims = { channels: 2, numExperts: 3, hidden: 4 };
    const bad = (params: ExpertKindDef['params']) => () => expertParamSpecs(stub('x', params), dims);
    expect(bad(() => [{ key: 'a', shape: [3, 2], init: { type: 'zeros' }, expert: 'stacked' }, { key: 'a', shape: [1], init: { type: 'zeros' }, expert: 0 }])).toThrow(/parameter 'a' declared twice/);
    expect(bad(() => [{ key: 'a', shape: [2, 2], init: { type: 'zeros' }, expert: 'stacked' }])).toThrow(/stacked parameter 'a' has shape \[2,2\]; expected 3 experts on axis 0/);
    expect(bad(() => [{ key: 'a', shape: [0], init: { type: 'zeros' }, expert: 0 }])).toThrow(/shape \[0\]; expected positive integers/);
    expect(bad(() => [{ key: 'a', shape: [1], init: { type: 'zeros' }, expert: 3 }])).toThrow(/belongs to expert 3; expected 0..2/);
  });
});
