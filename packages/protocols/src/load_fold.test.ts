// loadFold for runs: a missing list entry fails naming it, or (onMissing 'skip') is left out and counted per role.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFold, MissingFilesError, readFold } from './registry.ts';
import { generateSyntheticDataset } from './synthetic/generate.ts';
import { tempRoot } from './testing/fake_tree.ts';

const root = path.join(tempRoot('load-fold'), 'synthetic');
afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

const P = 'synthetic-vis-thermal';
const lines = (role: string) => fs.readFileSync(path.join(root, `protocols/vis-thermal/1/${role}.txt`), 'utf8').trim().split('\n');

beforeAll(async () => {
  await generateSyntheticDataset(root, { identities: 6, imagesPerIdentity: 2, pretrainIdentities: 2, pretrainImagesPerIdentity: 1, size: 16 });
});

describe('loadFold and missing list entries', () => {
  it('fails naming every missing entry of the roles used, with the check command and the skip option', async () => {
    const probe = lines('probe');
    const train = lines('train');
    fs.rmSync(path.join(root, probe[0]));
    fs.rmSync(path.join(root, probe[1]));
    fs.rmSync(path.join(root, train[0]));
    const all = readFold(P, root, '1');
    expect(all.missing).toHaveLength(3);

    const err = await loadFold(P, root, '1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFilesError);
    const msg = (err as Error).message;
    expect(msg).toContain(`protocol ${P} fold 1 under ${root}: 3 entries have no file:`);
    expect(msg).toContain(`  probe protocols/vis-thermal/1/probe.txt: ${probe[0]} (no such image)`);
    expect(msg).toContain(`  train protocols/vis-thermal/1/train.txt: ${train[0]} (no such image)`);
    expect(msg).toContain(`\`ssmb protocols check ${P} --root ${root}\` lists every problem`);
    expect(msg).toContain('dataset.onMissing=skip');

    // an evaluation uses gallery and probe only: the missing training image is not its concern
    await expect(loadFold(P, root, '1', { roles: ['gallery', 'probe'] })).rejects.toThrow('2 entries have no file');
    const gallery = await loadFold(P, root, '1', { roles: ['gallery'] });
    expect(gallery.skipped).toEqual({ train: 0, gallery: 0, probe: 0 });

    const skipped = await loadFold(P, root, '1', { onMissing: 'skip' });
    expect(skipped.skipped).toEqual({ train: 1, gallery: 0, probe: 2 });
    expect(skipped.probe).toHaveLength(probe.length - 2);
    expect(skipped.train).toHaveLength(train.length - 1);
  });

  it('a missing list file cannot be skipped: nobody can say how many entries it held', async () => {
    const list = path.join(root, 'protocols/vis-thermal/2/gallery.txt');
    const text = fs.readFileSync(list);
    fs.rmSync(list);
    await expect(loadFold(P, root, '2', { onMissing: 'skip', roles: ['gallery', 'probe'] })).rejects.toThrow(
      /1 entry has no file:\n  gallery protocols\/vis-thermal\/2\/gallery.txt \(list file not found\)\ndataset.onMissing=skip leaves out single entries/,
    );
    fs.writeFileSync(list, text);
    await expect(loadFold(P, root, '2', { onMissing: 'maybe' as never })).rejects.toThrow(`loadFold: onMissing must be 'error' or 'skip', received "maybe"`);
  });
});
