// The README's CUDA provider instructions against onnxruntime-node's own install metadata: the manifest
// name, the CUDA major it implies, the NuGet package and version it downloads. An onnxruntime-node upgrade
// that changes them fails here until the README says what the new package installs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const require = createRequire(path.join(root, 'packages', 'core', 'package.json'));
interface Metadata {
  requirements: Record<string, string[]>;
  manifests: Record<string, Record<string, { package: string }>>;
  packages: Record<string, { name: string; versions: { version: string }[] }>;
}
const metadata = require('onnxruntime-node/script/install-metadata.js') as Metadata;
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README: installing onnxruntime-node\'s CUDA provider', () => {
  const manifests = metadata.requirements['linux/x64'];
  it('names each linux/x64 GPU manifest of the install metadata, its CUDA major and its NuGet package', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) {
      const major = m.match(/^cuda(\d+)$/)?.[1];
      expect(major, `manifest ${m}`).toBeDefined();
      expect(readme).toContain(`--onnxruntime-node-install=${m}`);
      expect(readme).toContain(`**CUDA ${major}**`);
      const pkgs = new Set(Object.values(metadata.manifests[`linux/x64:${m}`]).map((f) => f.package));
      for (const key of pkgs) {
        const p = metadata.packages[key];
        expect(readme).toContain(`\`${p.name}\` ${p.versions[0].version}`);
      }
    }
  });
});
