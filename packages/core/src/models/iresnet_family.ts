// The IResNet family in the backbone registry: insightface depths r18-r100 and the small variants for
// tests and the synthetic benchmark. `createIResNet` also builds from a free config (imports, tests).
import { IResNet, type IResNetOptions } from './iresnet.ts';
import { iresnetInput, iresnetTaps, IRESNET_FAMILY, validateIResNetConfig, type IResNetBackboneConfig, type IResNetConfig } from './iresnet_config.ts';
import { registerBackbone, registerBackboneFamily, type BackboneMeta } from './backbone.ts';

export interface CreateIResNetOptions extends IResNetOptions {
  overrides?: Partial<IResNetConfig>; // applied over the registered config; unknown keys fail
}

const configs = new Map<string, IResNetBackboneConfig>();

/** Adds a named IResNet config to the family and to the backbone registry. */
export function registerIResNet(name: string, config: IResNetConfig, testOverrides?: Partial<IResNetConfig>): void {
  if (configs.has(name)) throw new Error(`registerIResNet: model "${name}" is already registered`);
  const c = validateIResNetConfig({ ...config, arch: name });
  const meta: BackboneMeta = {
    family: IRESNET_FAMILY,
    description: `IResNet depths [${c.depths}], widths [${c.widths}], ${c.inputSize}x${c.inputSize} -> ${c.embeddingSize} (insightface layout)`,
    input: iresnetInput(c), embeddingSize: c.embeddingSize, taps: iresnetTaps(c), testOverrides,
  };
  registerBackbone(name, ({ overrides, ...opts }) => createIResNet(name, { ...opts, overrides: overrides as Partial<IResNetConfig> }), meta);
  configs.set(name, c);
}

export function listIResNets(): string[] {
  return [...configs.keys()];
}

export function iresnetConfig(name: string): IResNetBackboneConfig {
  const c = configs.get(name);
  if (!c) throw new Error(`unknown IResNet "${name}"; registered IResNets: ${listIResNets().join(', ')}`);
  return { ...c, depths: [...c.depths], widths: [...c.widths] };
}

export function createIResNet(nameOrConfig: string | IResNetConfig, opts: CreateIResNetOptions = {}): IResNet {
  const base = typeof nameOrConfig === 'string' ? iresnetConfig(nameOrConfig) : nameOrConfig;
  const { overrides, ...modelOpts } = opts;
  // name always follows arch (validateIResNetConfig fills it in)
  const { name: _name, ...merged } = { ...base, ...overrides } as IResNetConfig & { name?: string };
  return new IResNet(validateIResNetConfig(merged), modelOpts);
}

registerBackboneFamily({ family: IRESNET_FAMILY, fromConfig: (config, opts) => new IResNet(validateIResNetConfig(config), opts) });

const full = { widths: [64, 128, 256, 512], stemWidth: 64, inputSize: 112, embeddingSize: 512, dropout: 0 };
// The cpu backend's Conv2DBackpropFilter is ~50x slower than its conv: the property test runs the full
// depth at width 4-8 and a 16x16 input (final 1x1), which the architecture allows.
const reduced = { widths: [4, 4, 8, 8], stemWidth: 4, inputSize: 16, embeddingSize: 8 };
registerIResNet('iresnet18', { arch: 'iresnet18', depths: [2, 2, 2, 2], ...full }, reduced);
registerIResNet('iresnet34', { arch: 'iresnet34', depths: [3, 4, 6, 3], ...full }, reduced);
registerIResNet('iresnet50', { arch: 'iresnet50', depths: [3, 4, 14, 3], ...full }, reduced);
registerIResNet('iresnet100', { arch: 'iresnet100', depths: [3, 13, 30, 3], ...full }, reduced);
// Unit tests: a few thousand parameters, 32x32 input (final 2x2).
registerIResNet('iresnet-tiny', {
  arch: 'iresnet-tiny', depths: [1, 1, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8, inputSize: 32, embeddingSize: 16, dropout: 0,
});
// Synthetic benchmark: 64x64 input (final 4x4), 0.57M parameters, sized so backbone pre-training plus
// several SSMB runs fit the 15-minute 2-core wasm quickstart. Measured on wasm (single thread, CPU time,
// batch 64): ArcFace pre-training step 36 img/s, frozen inference 270 img/s, HFR step (N 4, SSMB at
// stem/layer1/layer2) 84 img/s. Depths [2,2,2,2] measured 29 / 194 / 62 img/s for little gain here.
registerIResNet('iresnet-synth', {
  arch: 'iresnet-synth', depths: [1, 1, 1, 1], widths: [16, 32, 64, 128], stemWidth: 16, inputSize: 64, embeddingSize: 128, dropout: 0,
});
