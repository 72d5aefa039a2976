// Where onnxruntime's WebGPU provider places the engine's graphs (a count, not a timing): training, loss and
// embedding graphs of iresnet-synth, IResNet-18 and IResNet-100, as built for the CPU provider (what
// WebGPU would run without lower_webgpu.ts) and as built for webgpu. Nodes on CPUExecutionProvider each
// cost a copy from the device and back per run. Needs a WebGPU adapter (lavapipe will do: placement does
// not depend on the adapter's speed).

import { createBackbone } from '../src/models/registry.ts';
import { HFRModel } from '../src/models/hfr_model.ts';
import { fallbackOps, nodePlacement } from '../src/engine/placement.ts';
import { buildInferenceGraph, buildTrainingGraph, engineModelOf } from '../src/engine/student_graph.ts';

const LOSS = { margin: 0, lambdaTs: 1, alpha: 0.01 };

export async function benchPlacement(): Promise<void> {
  console.log('\n== placement on webgpu: nodes per provider (SSMB N=4 style at stem/layer1/layer2, 8 pairs)');
  for (const name of ['iresnet-synth', 'iresnet18', 'iresnet100']) {
    const model = new HFRModel(createBackbone(name, { seed: 1 }), { taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style' });
    try {
      for (const provider of ['cpu', 'webgpu']) {
        const graphs: [string, () => Uint8Array][] = [
          ['training', () => buildTrainingGraph(engineModelOf(model), { pairs: 8, loss: LOSS, provider }).bytes],
          ['loss', () => buildTrainingGraph(engineModelOf(model), { pairs: 8, loss: LOSS, gradients: false, provider }).bytes],
          ['embedding', () => buildInferenceGraph(engineModelOf(model), { provider }).bytes],
        ];
        for (const [what, build] of graphs) {
          const t0 = performance.now();
          const p = await nodePlacement(build(), 'webgpu');
          const ops = Object.entries(fallbackOps(p)).map(([op, n]) => `${op} x${n}`).join(', ');
          console.log(`${name.padEnd(14)} ${what.padEnd(10)} built for ${provider.padEnd(7)} ${JSON.stringify(p.byProvider)}${ops ? ` on CPU: ${ops}` : ''} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
        }
      }
    } finally {
      model.dispose();
    }
  }

}
