// Method `ssmb`: Switch Style Modulation Blocks at the configured taps of the frozen network, each a learned
// router over N experts (docs/design.md section 4). No modality label anywhere: the router decides.
import { registerMethod, type MethodConfig } from './method.ts';

/** The block options every SSMB-block method shares (taps, expert kind, hidden width). */
export function blockOptions(c: MethodConfig) {
  return { taps: c.ssmb.positions, kind: c.ssmb.expertKind, hidden: c.ssmb.hiddenWidth ?? undefined, seed: c.seed };
}

export const SSMB = registerMethod({
  name: 'ssmb',
  description: 'SSMB blocks in the frozen network, each routing every image to one of N experts from its style',
  trains: true,
  trainable: 'the SSMB blocks (router and experts); the network stays frozen',
  network: 'a block after each configured tap: y = x + g E_k(x), k chosen by the router',
  losses: ['cc', 'ts', 'lb'],
  keys: ['ssmb.numExperts', 'ssmb.hiddenWidth', 'ssmb.positions', 'ssmb.expertKind', 'ssmb.routerInput', 'ssmb.routerJitter', 'ssmb.routing', 'loss.margin', 'loss.lambdaTs', 'loss.alpha'],
  label: { training: false, inference: false },
  model: (c) => ({
    ...blockOptions(c), numExperts: c.ssmb.numExperts,
    routerInput: c.ssmb.routerInput, routerJitter: c.ssmb.routerJitter, routing: c.ssmb.routing,
  }),
});
