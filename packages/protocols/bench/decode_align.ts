// Throughput benchmark: decode + align (img/s) on JPEG and BMP inputs it generates (640x480, the
// CASIA NIR-VIS 2.0 frame size), the warp alone, and synthetic benchmark generation (images/s).
// Run: npm run bench -w @ssmb/protocols   (env BENCH_N=images per format, default 200)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bmp from 'bmp-js';
import sharp from 'sharp';
import { arcfaceEyes, similarityFromPoints, warpAffineNormalized } from '../src/image/align.ts';
import { decodeImage } from '../src/image/decode.ts';
import { loadAlignedBatch } from '../src/image/load.ts';
import { generateSyntheticDataset } from '../src/synthetic/generate.ts';
import type { Sample } from '../src/types.ts';
import { mulberry32 } from '../src/rng.ts';
import { sampleIdentity, sampleJitter } from '../src/synthetic/identity.ts';
import { DEFAULT_SEVERITY, renderModality, SYNTHETIC_MODALITIES } from '../src/synthetic/modalities.ts';
import { encodePng } from '../src/synthetic/png.ts';
import { allocLayers, renderFace } from '../src/synthetic/render.ts';

const N = Number(process.env.BENCH_N ?? 200);
const W = 640, H = 480;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-bench-'));

function frame(seed: number): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 3;
    rgb[i] = (x + seed * 7) & 255; rgb[i + 1] = (y * 2 + seed) & 255; rgb[i + 2] = ((x ^ y) + seed) & 255;
  }
  return rgb;
}

/** Wall-clock and CPU seconds (user + system, all threads of this process): on a shared, loaded machine
 * the CPU figure (images per CPU-second) is the one that says what one free core would do. */
async function timed(fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
const rate = (n: number, t: { wall: number; cpu: number }) =>
  `${(n / t.wall).toFixed(0).padStart(6)} img/s wall, ${(n / t.cpu).toFixed(0).padStart(6)} img/CPU-s`;

async function main(): Promise<void> {
  console.log(`decode + align benchmark: ${N} images per format, ${W}x${H} inputs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${os.cpus().length} cores`);
  const eyes: [[number, number], [number, number]] = [[280, 220], [360, 226]];
  const samples: Record<string, Sample[]> = { jpeg: [], bmp: [] };
  for (let i = 0; i < N; i++) {
    const rgb = frame(i);
    const jp = path.join(dir, `${i}.jpg`);
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toFile(jp);
    const abgr = Buffer.alloc(W * H * 4);
    for (let p = 0; p < W * H; p++) { abgr[p * 4] = 255; abgr[p * 4 + 1] = rgb[p * 3 + 2]; abgr[p * 4 + 2] = rgb[p * 3 + 1]; abgr[p * 4 + 3] = rgb[p * 3]; }
    const bp = path.join(dir, `${i}.bmp`);
    fs.writeFileSync(bp, bmp.encode({ data: abgr, width: W, height: H }).data);
    samples.jpeg.push({ path: jp, subject: String(i), modality: 'VIS', eyes });
    samples.bmp.push({ path: bp, subject: String(i), modality: 'NIR', eyes });
  }
  for (const [fmt, list] of Object.entries(samples)) {
    await loadAlignedBatch(list.slice(0, 10), 112); // warm-up
    const dec = await timed(async () => {
      for (const s of list) await decodeImage(s.path);
    });
    let stats = { eyes: 0, fallback: 0 };
    const both = await timed(async () => {
      ({ stats } = await loadAlignedBatch(list, 112, { concurrency: 4 }));
    });
    console.log(`${fmt.padEnd(5)} decode only (serial):                   ${rate(list.length, dec)}`);
    console.log(`${fmt.padEnd(5)} decode + align 112x112 (concurrency 4): ${rate(list.length, both)}  (${stats.eyes} aligned by eyes, ${stats.fallback} fallbacks)`);
  }
  const img = await decodeImage(samples.jpeg[0].path);
  const m = similarityFromPoints(eyes, arcfaceEyes(112));
  const out = new Float32Array(112 * 112 * 3);
  const reps = 2000;
  const warp = await timed(() => {
    for (let i = 0; i < reps; i++) warpAffineNormalized(img, m, 112, out);
  });
  console.log(`warp only (bilinear, 112x112x3 from ${W}x${H}):        ${rate(reps, warp)}`);

  // synthetic rendering on one core without the disk: identity + pose/expression/lighting + modality + PNG encode
  {
    const rng = mulberry32(1);
    const layers = allocLayers(64);
    let n = 0;
    const t = await timed(() => {
    for (let i = 0; i < 50; i++) {
      const id = sampleIdentity(rng);
      for (const mod of SYNTHETIC_MODALITIES) {
        for (let k = 0; k < 4; k++) {
          renderFace(id, sampleJitter(rng), layers);
          const img = renderModality(mod, layers, mod === 'VIS' ? 0 : DEFAULT_SEVERITY[mod], rng);
          encodePng(img.data, 64, 64, img.channels);
          n++;
        }
      }
    }
    });
    console.log(`synthetic render + transform + PNG encode, 64x64, no disk (${n} images): ${rate(n, t)}`);
  }
  const synthRoot = path.join(dir, 'synthetic');
  let r!: Awaited<ReturnType<typeof generateSyntheticDataset>>;
  const gen = await timed(async () => {
    r = await generateSyntheticDataset(synthRoot, {});
  });
  console.log(`synthetic generation, defaults (${r.manifest.counts.images} images ${r.manifest.options.size}x${r.manifest.options.size}, PNG files written): ${rate(r.manifest.counts.images, gen)}  (${r.seconds.toFixed(2)} s)`);
  const t0 = performance.now();
  const cached = await generateSyntheticDataset(synthRoot, {});
  console.log(`synthetic generation again (cache hit: ${cached.cached}) ${((performance.now() - t0) * 1000).toFixed(0)} us`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.error(err);
  process.exit(1);
});
