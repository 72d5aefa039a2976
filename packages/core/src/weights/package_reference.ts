// The packages' OWN implementations of the pre-trained backbones, run on the same tf engine: the reference
// our re-implementations are checked against (tests, `import-weights --verify`). Each family says how to
// build its package's network (`pretrained.reference` on its registry metadata, beside its definition).
import { backboneInfo } from '../models/registry.ts';
import type { PackageReference } from '../models/backbone.ts';
import { pretrainedFiles } from './pretrained.ts';

export type { PackageReference } from '../models/backbone.ts';

export async function createPackageReference(name: string, opts: { file?: string } = {}): Promise<PackageReference> {
  const info = backboneInfo(name);
  const reference = info.pretrained?.reference;
  if (!reference) {
    throw new Error(`backbone ${name} (family ${info.family}) has no package reference implementation: its registry entry has no pretrained.reference`);
  }
  const { json } = pretrainedFiles(name, opts.file);
  return reference(json);
}
