// Accuracy guards of the int8 engine graphs against fp32, on the pre-trained networks the npm packages
// ship (dlib ResNet-29, faceres MobileNet, through our re-implementations) with SSMB blocks, on a synthetic
// heterogeneous benchmark: face-like generated identities, two captures each, seen as VIS, NIR-like and
// thermal-like images. Calibrated on other images of every modality. Guards: cosine >= 0.99 per image,
// verification AUC within 0.2 points, routing identical for >= 95% of images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend.ts';
import { importPretrained } from '../../weights/pretrained.ts';
import { HFRModel } from '../../models/hfr_model.ts';
import { createEngineEmbedder } from '../embedder.ts';
import { engineModelOf } from '../student_graph.ts';
import { calibrateModel } from './calibrate_model.ts';
import { int8Accuracy } from './accuracy.ts';
import { syntheticHfr } from './hfr_fixtures.ts';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe.each(['dlib-resnet29', 'faceres-mobilenet'])('int8 against fp32: %s with SSMB blocks', (name) => {
  let model: HFRModel;
  beforeAll(() => {
    const backbone = importPretrained(name).model;
    model = new HFRModel(backbone, { taps: backbone.taps.slice(0, 2).map((t) => t.name), numExperts: 4, seed: 3 });
  });
  afterAll(() => model.dispose());

  it('embeddings cosine >= 0.99 per image, AUC within 0.2 points, routing identical for >= 95% (backbone alone and with blocks)', async () => {
    const backbone = model.backbone;
    const S = backbone.input.size;
    const calib = syntheticHfr(6, S, 7); // other identities: 36 images, 12 per modality
    const test = syntheticHfr(8, S, 11); // 48 images
    for (const m of [{ backbone }, engineModelOf(model)]) {
      const calibration = await calibrateModel(m, calib.sets, { batch: 8 });
      expect(calibration.perModality).toEqual({ VIS: 12, NIR: 12, TH: 12 });
      const f = await createEngineEmbedder(m, { threads: 2 });
      const q = await createEngineEmbedder(m, { threads: 2, precision: 'int8', calibration });
      try {
        expect(q.precision).toMatchObject({ precision: 'int8', reason: 'configured' });
        expect(q.precision.layers).toBeGreaterThan(10);
        const acc = int8Accuracy(await f.embedRouted(test.all), await q.embedRouted(test.all), f.embeddingSize, test.identity);
        const what = `${name}${'blocks' in m ? ' + SSMB' : ''}`;
        console.log(`${what}: min cosine ${acc.minCosine.toFixed(4)}, AUC fp32 ${acc.aucFp32.toFixed(4)} int8 ${acc.aucInt8.toFixed(4)} (${acc.aucDeltaPoints.toFixed(3)} points), routing ${(100 * acc.routingAgreement).toFixed(1)}%`);
        expect(acc.minCosine, `${what}: min cosine`).toBeGreaterThanOrEqual(0.99);
        expect(acc.aucDeltaPoints, `${what}: AUC points`).toBeLessThanOrEqual(0.2);
        expect(acc.routingAgreement, `${what}: routing`).toBeGreaterThanOrEqual(0.95);
        expect(acc.cosine.some((c) => c < 0.99999), 'int8 is not fp32').toBe(true);
      } finally {
        await f.dispose();
        await q.dispose();
      }
    }
  }, 600_000);
});
