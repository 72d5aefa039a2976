// `ssmb synth generate --root DIR [--seed N] ...`: write the synthetic multi-modal benchmark (cached).
import type { Command } from 'commander';
import { DEFAULT_SYNTHETIC_OPTIONS, generateSyntheticDataset, type SyntheticOverrides, type SyntheticResult } from '@ssmb/protocols';

type Log = (line: string) => void;

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got "${v}"`);
  return n;
};

/** --severity NIR=0.3 (repeatable) */
function severity(v: string, prev: Record<string, number> = {}): Record<string, number> {
  const m = /^(NIR|THERMAL|SKETCH)=([0-9.]+)$/i.exec(v);
  if (!m) throw new Error(`--severity must look like NIR=0.5 (NIR, THERMAL or SKETCH, value in [0,1]), got "${v}"`);
  return { ...prev, [m[1].toUpperCase()]: Number(m[2]) };
}

export async function synthGenerate(root: string, overrides: SyntheticOverrides, log: Log = console.log): Promise<SyntheticResult> {
  const r = await generateSyntheticDataset(root, overrides);
  const c = r.manifest.counts;
  if (r.cached) {
    log(`${root} already holds this dataset (generator v${r.manifest.version}, same options): nothing written`);
  } else {
    log(`wrote ${c.images} images (${c.hfrImages} HFR in 4 modalities, ${c.pretrainImages} VIS pre-training) to ${root}`);
    log(`${r.seconds.toFixed(2)} s, ${r.imagesPerSecond.toFixed(0)} images/s`);
  }
  log('protocols: synthetic-vis-vis, synthetic-vis-nir, synthetic-vis-thermal, synthetic-vis-sketch, synthetic-vis-universal, synthetic-pretrain-vis');
  return r;
}

export function register(program: Command): void {
  const synth = program.command('synth').description('the synthetic multi-modal face benchmark');
  const d = DEFAULT_SYNTHETIC_OPTIONS;
  synth
    .command('generate')
    .description('write the benchmark (PNG tree, eyes.txt, protocol lists, manifest.json); a no-op when the root already holds it')
    .requiredOption('--root <dir>', 'output directory (new, empty, or an earlier synthetic root)')
    .option('--seed <n>', `generator seed (default ${d.seed})`, int('seed'))
    .option('--identities <n>', `HFR identities (default ${d.identities})`, int('identities'))
    .option('--images <n>', `images per identity and modality (default ${d.imagesPerIdentity})`, int('images'))
    .option('--pretrain-identities <n>', `VIS-only pre-training identities (default ${d.pretrainIdentities})`, int('pretrain-identities'))
    .option('--pretrain-images <n>', `images per pre-training identity (default ${d.pretrainImagesPerIdentity})`, int('pretrain-images'))
    .option('--size <px>', `image side (default ${d.size})`, int('size'))
    .option('--severity <MOD=v>', 'modality severity in [0,1], repeatable (defaults NIR=0.5 THERMAL=0.7 SKETCH=1)', severity)
    .action(async (o) => {
      const overrides: SyntheticOverrides = {};
      if (o.seed !== undefined) overrides.seed = o.seed;
      if (o.identities !== undefined) overrides.identities = o.identities;
      if (o.images !== undefined) overrides.imagesPerIdentity = o.images;
      if (o.pretrainIdentities !== undefined) overrides.pretrainIdentities = o.pretrainIdentities;
      if (o.pretrainImages !== undefined) overrides.pretrainImagesPerIdentity = o.pretrainImages;
      if (o.size !== undefined) overrides.size = o.size;
      if (o.severity) overrides.severity = o.severity;
      await synthGenerate(o.root, overrides);
    });
}
