// Typed model registry (timm style): names -> IResNet configs; createModel builds from a name or a config.
import { IResNet, type IResNetOptions } from './iresnet.ts';
import { validateIResNetConfig, type IResNetConfig } from './iresnet_config.ts';

export interface CreateModelOptions extends IResNetOptions {
  overrides?: Partial<IResNetConfig>; // applied over the registered config; unknown keys fail
}

const registry = new Map<string, IResNetConfig>();

export function registerModel(name: string, config: IResNetConfig): void {
  if (registry.has(name)) throw new Error(`registerModel: model "${name}" is already registered`);
  registry.set(name, validateIResNetConfig({ ...config, arch: name }));
}

export function listModels(): string[] {
  return [...registry.keys()];
}

export function getModelConfig(name: string): IResNetConfig {
  const c = registry.get(name);
  if (!c) throw new Error(`unknown model "${name}"; known models: ${listModels().join(', ')}`);
  return { ...c, depths: [...c.depths], widths: [...c.widths] };
}

export function createModel(nameOrConfig: string | IResNetConfig, opts: CreateModelOptions = {}): IResNet {
  const base = typeof nameOrConfig === 'string' ? getModelConfig(nameOrConfig) : nameOrConfig;
  const { overrides, ...modelOpts } = opts;
  return new IResNet(validateIResNetConfig({ ...base, ...overrides }), modelOpts);
}

const full = { widths: [64, 128, 256, 512], stemWidth: 64, inputSize: 112, embeddingSize: 512, dropout: 0 };
registerModel('iresnet18', { arch: 'iresnet18', depths: [2, 2, 2, 2], ...full });
registerModel('iresnet34', { arch: 'iresnet34', depths: [3, 4, 6, 3], ...full });
registerModel('iresnet50', { arch: 'iresnet50', depths: [3, 4, 14, 3], ...full });
registerModel('iresnet100', { arch: 'iresnet100', depths: [3, 13, 30, 3], ...full });
// Unit tests: a few thousand parameters, 32x32 input (final 2x2).
registerModel('iresnet-tiny', {
  arch: 'iresnet-tiny', depths: [1, 1, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8, inputSize: 32, embeddingSize: 16, dropout: 0,
});
// Synthetic benchmark: 64x64 input (final 4x4), 0.57M parameters, sized so backbone pre-training plus
// several SSMB runs fit the 15-minute 2-core wasm quickstart. Measured on wasm (single thread, CPU time,
// batch 64): ArcFace pre-training step 36 img/s, frozen inference 270 img/s, HFR step (N 4, SSMB at
// stem/layer1/layer2) 84 img/s. Depths [2,2,2,2] measured 29 / 194 / 62 img/s for little gain here.
registerModel('iresnet-synth', {
  arch: 'iresnet-synth', depths: [1, 1, 1, 1], widths: [16, 32, 64, 128], stemWidth: 16, inputSize: 64, embeddingSize: 128, dropout: 0,
});
