import { mulberry32 } from '../src/rng.ts';
import { sampleIdentity, sampleJitter } from '../src/synthetic/identity.ts';
import { allocLayers, renderFace } from '../src/synthetic/render.ts';
import { renderModality } from '../src/synthetic/modalities.ts';
const rng = mulberry32(1); const L = allocLayers(64); const id = sampleIdentity(rng);
for (let rep = 0; rep < 2; rep++) {
let t = performance.now();
for (let i = 0; i < 2000; i++) renderFace(id, sampleJitter(rng), L);
console.log('renderFace ms', ((performance.now() - t) / 2000).toFixed(3));
for (const mod of ['VIS','NIR','THERMAL','SKETCH'] as const) {
  t = performance.now();
  for (let i = 0; i < 2000; i++) renderModality(mod, L, 0.7, rng);
  console.log(mod, ((performance.now() - t) / 2000).toFixed(3));
}}
