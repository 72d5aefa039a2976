// HFR model = frozen backbone (any registered family, through the Backbone interface) + SSMB blocks at
// chosen taps (docs/design.md#the-ssmb-block). The student is forward(); the teacher is the same backbone without
// SSMBs (teacherForward()).
import { tf } from '../tf.ts';
import { checkSelection, SSMBBlock, type ApplyOptions, type ExpertKind, type Routing, type Selection } from '../ssmb/ssmb_block.ts';
import { getExpertKind } from '../ssmb/experts/index.ts';
import { checkRouterOptions, DEFAULT_ROUTER_OPTIONS, type RouterInput, type RoutingMode } from '../ssmb/router.ts';
import { requireTap, type Backbone, type TapInfo } from './backbone.ts';

export interface HFRConfig {
  taps: string[]; // where SSMBs sit (names from backbone.taps), in any order (applied in backbone order)
  numExperts: number; // N >= 1 per block
  hidden?: number; // expert hidden width; default max(16, C/2) per block
  kind: ExpertKind; // a registered expert kind (listExpertKinds())
  seed: number;
  routerInput: RouterInput; // 'style' | 'mean' (ROUTER_INPUTS)
  routerJitter: number; // training-only multiplicative router noise U(1-e, 1+e); 0 = off
  routing: RoutingMode; // 'top1' | 'soft' (ROUTING_MODES)
  /** 'router' (learned routing) or 'label' (each sample's expert given by the caller from its modality
   *  label: forward's opts.select); absent = router (files written before it existed) */
  selection?: Selection;
}

// Files written before the router options existed have none of them: they load with these defaults,
// which are what those models computed.
export const DEFAULT_HFR_CONFIG: HFRConfig = { taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style', seed: 0, ...DEFAULT_ROUTER_OPTIONS };
const HFR_KEYS = ['taps', 'numExperts', 'hidden', 'kind', 'seed', 'routerInput', 'routerJitter', 'routing', 'selection'];

export interface BlockRouting extends Routing {
  tap: string;
}

export interface HFROutput {
  embedding: tf.Tensor2D; // [B,E]
  routings: BlockRouting[]; // one per SSMB, in backbone order
}

/** Checks and completes an HFR config against the taps the backbone offers (its `taps`, in forward order). */
export function resolveHFRConfig(overrides: Partial<HFRConfig> = {}, backbone: { name: string; taps: readonly TapInfo[] }): HFRConfig {
  const unknown = Object.keys(overrides).filter((k) => !HFR_KEYS.includes(k));
  if (unknown.length) throw new Error(`HFR config: unknown key(s) ${unknown.join(', ')}; known: ${HFR_KEYS.join(', ')}`);
  const cfg: HFRConfig = { ...DEFAULT_HFR_CONFIG, ...overrides, taps: [...(overrides.taps ?? DEFAULT_HFR_CONFIG.taps)] };
  const order = backbone.taps.map((t) => t.name);
  if (!Array.isArray(cfg.taps) || cfg.taps.length === 0) throw new Error(`HFR config: taps must name at least one of ${order.join(', ')} (the taps of ${backbone.name}), received ${JSON.stringify(cfg.taps)}`);
  cfg.taps.forEach((t) => requireTap(backbone, t));
  if (new Set(cfg.taps).size !== cfg.taps.length) throw new Error(`HFR config: taps contain duplicates: ${JSON.stringify(cfg.taps)}`);
  cfg.taps.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const kind = getExpertKind(cfg.kind, 'HFR config kind');
  if (cfg.hidden !== undefined && !kind.usesHidden) throw new Error(`HFR config: hidden is ${cfg.hidden}, but expert kind "${kind.name}" has no hidden layer; leave it unset`);
  Object.assign(cfg, checkRouterOptions(cfg, 'HFR config'));
  if (cfg.hidden === undefined) delete cfg.hidden;
  // kept only when not the default, so router models keep the config (and file metadata) they always had
  if (checkSelection(cfg.selection, cfg, 'HFR config') === 'router') delete cfg.selection;
  return cfg;
}

export class HFRModel {
  readonly config: HFRConfig;
  readonly blocks = new Map<string, SSMBBlock>();

  /** Freezes `backbone` (no trainable variables, BN on running statistics). */
  constructor(readonly backbone: Backbone, config: Partial<HFRConfig> = {}) {
    this.config = resolveHFRConfig(config, backbone);
    backbone.setFrozen(true);
    this.config.taps.forEach((tap, i) => {
      this.blocks.set(tap, new SSMBBlock({
        channels: requireTap(backbone, tap).channels, numExperts: this.config.numExperts, hidden: this.config.hidden,
        kind: this.config.kind, seed: this.config.seed * 16 + i,
        routerInput: this.config.routerInput, routerJitter: this.config.routerJitter, routing: this.config.routing,
        selection: this.config.selection,
      }));
    });
  }

  /** Every weight under one namespace: `backbone.<family key>` and `ssmb.<tap>.<block key>`. */
  get params(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const [k, v] of this.backbone.params) m.set(`backbone.${k}`, v);
    for (const [tap, b] of this.blocks) for (const [k, v] of b.params) m.set(`ssmb.${tap}.${k}`, v);
    return m;
  }

  /** SSMB parameters only: the backbone stays frozen. */
  get trainableVariables(): tf.Variable[] {
    return [...this.blocks.values()].flatMap((b) => b.trainableVariables);
  }

  /** Student: backbone with the SSMBs applied at their taps. `opts.training` + `opts.rng`: the training
   *  forward (router jitter drawn from rng, block by block in backbone order, when routerJitter > 0).
   *  `opts.select` [B,N]: the per-sample expert of label-selected blocks (every block gets the same rows). */
  forward(x: tf.Tensor4D, opts: ApplyOptions = {}): HFROutput {
    const routings: BlockRouting[] = [];
    const embedding = this.backbone.forward(x, {
      tapHook: (tap, h, keep) => {
        const block = this.blocks.get(tap);
        if (!block) return;
        const { y, routing } = block.apply(h, opts);
        routings.push({ tap, probs: keep(routing.probs), expert: keep(routing.expert), gate: keep(routing.gate) });
        return y;
      },
    });
    return { embedding, routings };
  }

  /** Teacher: the frozen backbone alone. */
  teacherForward(x: tf.Tensor4D): tf.Tensor2D {
    return this.backbone.forward(x);
  }

  dispose(): void {
    for (const b of this.blocks.values()) b.dispose();
    this.backbone.dispose();
  }
}

/** Disposes every tensor of an HFR forward result. */
export function disposeHFROutput(out: HFROutput): void {
  tf.dispose([out.embedding, ...out.routings.flatMap((r) => [r.probs, r.expert, r.gate])]);
}
