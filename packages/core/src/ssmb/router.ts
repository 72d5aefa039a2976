// The SSMB router's options (docs/design.md#the-ssmb-block), each a config key recorded with the run:
//   input    'style' = [mu; sigma] [B,2C] (default), or 'mean' = mu [B,C];
//   jitter   e: Switch-Transformer multiplicative noise on the router input during training only,
//            r * U(1 - e, 1 + e) elementwise (0 = off, the default); the noise is drawn from the caller's
//            seeded generator (the trainer passes the run's RNG, whose state every checkpoint saves), so a
//            jittered run is reproducible and resumes exactly; evaluation and export never jitter;
//   routing  'top1' (default): k = argmax p, y = x + p_k E_k(x); 'soft': every expert applied,
//            y = x + sum_k p_k E_k(x) (the ablation against hard switching). With N = 1 there is no
//            router (p = 1) and both are the same computation, exactly.
// These lists are the one source the trainer's config schema and the HFR config read.
import { tf } from '../tf.ts';
import type { ExpertParamSpec } from './expert_kind.ts';

export const ROUTER_INPUTS = ['style', 'mean'] as const;
export type RouterInput = (typeof ROUTER_INPUTS)[number];
export const ROUTING_MODES = ['top1', 'soft'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

export interface RouterOptions {
  routerInput: RouterInput;
  routerJitter: number;
  routing: RoutingMode;
}

export const DEFAULT_ROUTER_OPTIONS: RouterOptions = { routerInput: 'style', routerJitter: 0, routing: 'top1' };

/** A uniform [0, 1) generator (the trainer's Rng satisfies it). */
export interface UniformSource {
  next(): number;
}

/** Checks router options (unknown values name the valid ones) and fills in the defaults. `what` names the caller. */
export function checkRouterOptions(o: Partial<RouterOptions>, what = 'SSMB router'): RouterOptions {
  const r: RouterOptions = {
    routerInput: o.routerInput ?? DEFAULT_ROUTER_OPTIONS.routerInput,
    routerJitter: o.routerJitter ?? DEFAULT_ROUTER_OPTIONS.routerJitter,
    routing: o.routing ?? DEFAULT_ROUTER_OPTIONS.routing,
  };
  if (!(ROUTER_INPUTS as readonly string[]).includes(r.routerInput)) {
    throw new Error(`${what}: routerInput must be one of ${ROUTER_INPUTS.join(', ')}, received ${JSON.stringify(r.routerInput)}`);
  }
  if (!(ROUTING_MODES as readonly string[]).includes(r.routing)) {
    throw new Error(`${what}: routing must be one of ${ROUTING_MODES.join(', ')}, received ${JSON.stringify(r.routing)}`);
  }
  if (typeof r.routerJitter !== 'number' || !Number.isFinite(r.routerJitter) || r.routerJitter < 0 || r.routerJitter >= 1) {
    throw new Error(`${what}: routerJitter must be a number in [0, 1) (0 = off; the noise is U(1 - e, 1 + e)), received ${JSON.stringify(r.routerJitter)}`);
  }
  return r;
}

/** Width of the router input: 2C for 'style', C for 'mean'. */
export function routerInputWidth(input: RouterInput, channels: number): number {
  return input === 'style' ? 2 * channels : channels;
}

/** router.weight [Din,N] ~ U(+-1/sqrt(Din)), router.bias [N] = 0; none for N = 1 (no router: p = 1). */
export function routerParams(channels: number, numExperts: number, input: RouterInput): ExpertParamSpec[] {
  if (numExperts === 1) return [];
  const din = routerInputWidth(input, channels);
  return [
    { key: 'router.weight', shape: [din, numExperts], init: { type: 'uniform', bound: 1 / Math.sqrt(din) }, expert: 'router' },
    { key: 'router.bias', shape: [numExperts], init: { type: 'zeros' }, expert: 'router' },
  ];
}

/** The router's input from the style s = [mu; sigma] [B,2C]: s itself, or its first C columns (mu). */
export function routerInputTf(s: tf.Tensor2D, input: RouterInput): tf.Tensor2D {
  const [B, C2] = s.shape;
  return input === 'style' ? s : (tf.slice(s, [0, 0], [B, C2 / 2]) as tf.Tensor2D);
}

/** Jitter factors U(1 - e, 1 + e) for a [rows, cols] router input, row-major, drawn from `rng`. The one
 *  definition both engines use, so a jittered run draws the same noise whichever engine trains it. */
export function routerJitterFactors(rng: UniformSource, jitter: number, rows: number, cols: number): Float32Array {
  const f = new Float32Array(rows * cols);
  for (let i = 0; i < f.length; i++) f[i] = 1 - jitter + 2 * jitter * rng.next();
  return f;
}
