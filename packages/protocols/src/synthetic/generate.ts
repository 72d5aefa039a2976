// generateSyntheticDataset: a deterministic multi-modal face benchmark written in a native-like layout.
import fs from 'node:fs';
import path from 'node:path';
import { deriveSeed, mulberry32, shuffle } from '../rng.ts';
import { sampleIdentity, sampleJitter, type FaceIdentity } from './identity.ts';
import { DEFAULT_SEVERITY, renderModality, SYNTHETIC_MODALITIES, type SyntheticModality } from './modalities.ts';
import { encodePng } from './png.ts';
import { allocLayers, renderFace } from './render.ts';

/** Bump when rendering changes, so cached trees are regenerated. */
export const SYNTHETIC_GENERATOR_VERSION = 1;
export const SYNTHETIC_FOLDS = ['1', '2', '3'];
/** The HFR tasks written under protocols/vis-<task>/ (names match specs/synthetic-vis-<task>.yaml). */
export const SYNTHETIC_TASKS: Record<string, SyntheticModality[]> = {
  vis: ['VIS'],
  nir: ['NIR'],
  thermal: ['THERMAL'],
  sketch: ['SKETCH'],
  universal: ['NIR', 'THERMAL', 'SKETCH'],
};

export interface SyntheticOptions {
  seed: number;
  identities: number; // HFR identities (all four modalities), split per fold 50/50 train/test
  imagesPerIdentity: number; // per modality
  pretrainIdentities: number; // VIS-only identities for backbone pre-training, disjoint from the HFR ones
  pretrainImagesPerIdentity: number;
  size: number; // square image side in pixels
  severity: { NIR: number; THERMAL: number; SKETCH: number };
}

export const DEFAULT_SYNTHETIC_OPTIONS: SyntheticOptions = {
  seed: 2026,
  identities: 60,
  imagesPerIdentity: 4,
  pretrainIdentities: 300,
  pretrainImagesPerIdentity: 8,
  size: 64,
  severity: { ...DEFAULT_SEVERITY },
};

export interface SyntheticManifest {
  generator: 'ssmb-synthetic';
  version: number;
  options: SyntheticOptions;
  counts: { images: number; hfrImages: number; pretrainImages: number };
}

export interface SyntheticResult {
  root: string;
  manifest: SyntheticManifest;
  cached: boolean; // true when the root already held this exact dataset (nothing written)
  seconds: number;
  imagesPerSecond: number;
}

type Overrides = Partial<Omit<SyntheticOptions, 'severity'>> & { severity?: Partial<SyntheticOptions['severity']> };

export function resolveSyntheticOptions(o: Overrides = {}): SyntheticOptions {
  const known = new Set([...Object.keys(DEFAULT_SYNTHETIC_OPTIONS)]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`unknown synthetic option '${k}'; known: ${[...known].join(', ')}`);
  for (const k of Object.keys(o.severity ?? {})) if (!(k in DEFAULT_SEVERITY)) throw new Error(`unknown severity '${k}'; known: NIR, THERMAL, SKETCH`);
  const r: SyntheticOptions = { ...DEFAULT_SYNTHETIC_OPTIONS, ...o, severity: { ...DEFAULT_SYNTHETIC_OPTIONS.severity, ...o.severity } };
  const int = (k: keyof SyntheticOptions, min: number) => {
    const v = r[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`synthetic option ${k} must be an integer >= ${min}, received ${v}`);
  };
  int('seed', 0); int('identities', 4); int('imagesPerIdentity', 2); int('pretrainIdentities', 0); int('pretrainImagesPerIdentity', 1); int('size', 16);
  for (const [m, v] of Object.entries(r.severity)) if (!(v >= 0 && v <= 1)) throw new Error(`severity.${m} must be in [0, 1], received ${v}`);
  return r;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const hfrId = (i: number) => `h${pad(i + 1, 4)}`;
const preId = (i: number) => `p${pad(i + 1, 4)}`;
const imageRel = (mod: string, id: string, n: number) => `${mod}/${id}/${pad(n, 3)}.png`;

/** Paths we own inside a root (removed before regenerating with other options). */
const OWNED = ['VIS', 'NIR', 'THERMAL', 'SKETCH', 'pretrain', 'protocols', 'eyes.txt', 'manifest.json', '.partial'];
/** Written first and removed last: a root holding it is an interrupted generation of ours. */
const PARTIAL = '.partial';

function readManifest(root: string): SyntheticManifest | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8')) as SyntheticManifest;
  } catch {
    return null;
  }
}

export type SyntheticOverrides = Overrides;

/**
 * Writes (or finds cached) the synthetic benchmark under root. Call as
 * generateSyntheticDataset({ root, seed, ... }) (the contract form) or generateSyntheticDataset(root, { seed, ... }).
 */
export async function generateSyntheticDataset(rootOrOptions: string | (Overrides & { root: string }), more: Overrides = {}): Promise<SyntheticResult> {
  let root: string;
  let overrides: Overrides;
  if (typeof rootOrOptions === 'string') {
    root = rootOrOptions;
    overrides = more;
  } else {
    ({ root, ...overrides } = rootOrOptions);
    if (typeof root !== 'string' || !root) throw new Error('generateSyntheticDataset: options.root (the output directory) is required');
  }
  const options = resolveSyntheticOptions(overrides);
  const t0 = performance.now();
  const prev = readManifest(root);
  if (prev && prev.generator === 'ssmb-synthetic' && prev.version === SYNTHETIC_GENERATOR_VERSION && JSON.stringify(prev.options) === JSON.stringify(options)) {
    return { root, manifest: prev, cached: true, seconds: (performance.now() - t0) / 1000, imagesPerSecond: 0 };
  }
  if (fs.existsSync(root)) {
    const ours = prev ? prev.generator === 'ssmb-synthetic' : fs.existsSync(path.join(root, PARTIAL));
    if (!ours && fs.readdirSync(root).length > 0) {
      throw new Error(`synthetic root ${root} is not empty and holds no synthetic manifest.json: choose an empty or new directory`);
    }
    for (const p of OWNED) fs.rmSync(path.join(root, p), { recursive: true, force: true });
  }
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, PARTIAL), 'generation in progress or interrupted; rerun to regenerate\n');

  const { size } = options;
  const layers = allocLayers(size);
  const eyes: string[] = [];
  let images = 0;
  const made = new Set<string>();
  for (const mod of SYNTHETIC_MODALITIES) fs.mkdirSync(path.join(root, mod), { recursive: true });
  fs.mkdirSync(path.join(root, 'pretrain', 'VIS'), { recursive: true });

  const pending = new Set<Promise<void>>();
  const emit = async (rel: string, id: FaceIdentity, mod: SyntheticModality, seed: number) => {
    const rng = mulberry32(seed);
    renderFace(id, sampleJitter(rng), layers);
    const sev = mod === 'VIS' ? 0 : options.severity[mod];
    const img = renderModality(mod, layers, sev, rng);
    const [[lx, ly], [rx, ry]] = layers.eyes;
    eyes.push(`${rel} ${lx.toFixed(3)} ${ly.toFixed(3)} ${rx.toFixed(3)} ${ry.toFixed(3)}`);
    const dir = path.dirname(path.join(root, rel));
    if (!made.has(dir)) {
      fs.mkdirSync(dir); // parents exist already; recursive mkdir costs ~10x more on a busy disk
      made.add(dir);
    }
    // small-file writes cost ~1 ms each on a busy disk: overlap them with rendering on libuv's pool
    const job = fs.promises.writeFile(path.join(root, rel), encodePng(img.data, size, size, img.channels));
    pending.add(job);
    void job.finally(() => pending.delete(job)).catch(() => undefined);
    images++;
    if (pending.size >= 64) await Promise.race(pending);
  };

  // HFR identities: every modality
  const hfr: Record<string, Record<SyntheticModality, string[]>> = {};
  for (let i = 0; i < options.identities; i++) {
    const id = sampleIdentity(mulberry32(deriveSeed(options.seed, 'identity', 'hfr', i)));
    const sid = hfrId(i);
    hfr[sid] = { VIS: [], NIR: [], THERMAL: [], SKETCH: [] };
    for (const mod of SYNTHETIC_MODALITIES) {
      for (let n = 0; n < options.imagesPerIdentity; n++) {
        const rel = imageRel(mod, sid, n);
        await emit(rel, id, mod, deriveSeed(options.seed, 'image', sid, mod, n));
        hfr[sid][mod].push(rel);
      }
    }
  }
  // pre-training identities: VIS only, their own id space
  const pretrain: string[] = [];
  for (let i = 0; i < options.pretrainIdentities; i++) {
    const id = sampleIdentity(mulberry32(deriveSeed(options.seed, 'identity', 'pretrain', i)));
    for (let n = 0; n < options.pretrainImagesPerIdentity; n++) {
      const rel = `pretrain/${imageRel('VIS', preId(i), n)}`;
      await emit(rel, id, 'VIS', deriveSeed(options.seed, 'image', preId(i), n));
      pretrain.push(rel);
    }
  }

  await Promise.all(pending);
  writeLists(root, options, hfr, pretrain);
  fs.writeFileSync(path.join(root, 'eyes.txt'), `# path left_x left_y right_x right_y (pixels)\n${eyes.join('\n')}\n`);
  const hfrImages = options.identities * options.imagesPerIdentity * SYNTHETIC_MODALITIES.length;
  const manifest: SyntheticManifest = {
    generator: 'ssmb-synthetic',
    version: SYNTHETIC_GENERATOR_VERSION,
    options,
    counts: { images, hfrImages, pretrainImages: pretrain.length },
  };
  fs.writeFileSync(path.join(root, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n'); // marks completion
  fs.rmSync(path.join(root, PARTIAL));
  const seconds = (performance.now() - t0) / 1000;
  return { root, manifest, cached: false, seconds, imagesPerSecond: images / seconds };
}

function writeLists(
  root: string,
  options: SyntheticOptions,
  hfr: Record<string, Record<SyntheticModality, string[]>>,
  pretrain: string[],
): void {
  const write = (rel: string, lines: string[]) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, lines.join('\n') + '\n');
  };
  const ids = Object.keys(hfr);
  const nTrain = Math.floor(ids.length / 2);
  for (const fold of SYNTHETIC_FOLDS) {
    const order = shuffle(ids, mulberry32(deriveSeed(options.seed, 'fold', fold)));
    const train = order.slice(0, nTrain).sort();
    const test = order.slice(nTrain).sort();
    for (const [task, mods] of Object.entries(SYNTHETIC_TASKS)) {
      const dir = `protocols/vis-${task}/${fold}`;
      const trainMods: SyntheticModality[] = ['VIS', ...mods.filter((m) => m !== 'VIS')];
      write(`${dir}/train.txt`, train.flatMap((id) => trainMods.flatMap((m) => hfr[id][m])));
      write(`${dir}/gallery.txt`, test.map((id) => hfr[id].VIS[0]));
      // VIS-VIS probes are the other VIS images; cross-modal probes are every image of the modality
      write(`${dir}/probe.txt`, test.flatMap((id) => mods.flatMap((m) => (m === 'VIS' ? hfr[id].VIS.slice(1) : hfr[id][m]))));
    }
  }
  write('protocols/pretrain/all/train.txt', pretrain);
  write('protocols/pretrain/all/gallery.txt', ids.map((id) => hfr[id].VIS[0]));
  write('protocols/pretrain/all/probe.txt', ids.flatMap((id) => hfr[id].VIS.slice(1)));
}
