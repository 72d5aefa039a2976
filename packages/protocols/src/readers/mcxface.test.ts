import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol } from '../check.ts';
import { readFold } from '../registry.ts';
import { put, tempRoot, tinyImages } from '../testing/fake_tree.ts';

const root = tempRoot('mcxface');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const { png } = await tinyImages();
  const row = (id: number, ch: string, n: number) => `face-station/${id}/${ch}/${n},${id},40,50,20,50`; // bob: subject's left eye first
  for (const ch of ['INFRARED', 'THERMAL']) {
    for (let id = 1; id <= 8; id++) for (const c of ['COLOR', ch]) for (let n = 1; n <= 2; n++) put(root, `face-station/${id}/${c}/${n}.png`, png);
    const head = 'PATH,REFERENCE_ID,leye_x,leye_y,reye_x,reye_y';
    const dir = `protocols/COLOR-${ch}-split1`;
    put(root, `${dir}/norm/train_world.csv`, [head, ...[1, 2, 3, 4].flatMap((id) => [row(id, 'COLOR', 1), row(id, ch, 1), row(id, ch, 2)])].join('\r\n'));
    put(root, `${dir}/dev/for_models.csv`, [head, ...[5, 6, 7, 8].map((id) => row(id, 'COLOR', 1))].join('\n'));
    put(root, `${dir}/dev/for_probes.csv`, [head, ...[5, 6, 7, 8].flatMap((id) => [row(id, ch, 1), row(id, ch, 2)]), row(9, ch, 1)].join('\n'));
  }
});

describe('MCXFace reader', () => {
  it('reads VIS-NIR from bob CSV lists with exact counts, eyes in image order', () => {
    const { fold, missing } = readFold('mcxface-vis-nir', root, 'split1');
    expect(fold.train.filter((s) => s.modality === 'VIS')).toHaveLength(4);
    expect(fold.train.filter((s) => s.modality === 'NIR')).toHaveLength(8);
    expect(fold.gallery).toHaveLength(4);
    expect(fold.probe).toHaveLength(8);
    expect(fold.probe[0].eyes).toEqual([[20, 50], [40, 50]]);
    expect(missing.map((m) => m.entry)).toEqual(['face-station/9/INFRARED/1']);
  });

  it('builds VIS-UNIVERSAL by pooling the channels and reports the channels whose lists are absent', async () => {
    const r = await checkProtocol('mcxface-vis-universal', root, { folds: ['split1'] });
    const f = r.folds[0];
    expect(f.counts.probe).toEqual({ NIR: 8, THERMAL: 8 });
    expect(f.counts.gallery).toEqual({ VIS: 4 }); // shared gallery counted once
    expect(f.counts.train).toEqual({ VIS: 4, NIR: 8, THERMAL: 8 });
    expect(f.missing.filter((m) => m.reason === 'list file not found').map((m) => m.entry)).toHaveLength(6); // DEPTH, SWIR x 3
    expect(r.ok).toBe(false);
  });
});
