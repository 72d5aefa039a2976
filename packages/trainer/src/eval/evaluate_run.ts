// The `evaluate` run kind: the frozen backbone alone (method baseline) or an SSMB model loaded from
// --init-from (method ssmb), on one fold or every fold of the protocol (dataset.fold=all).
import path from 'node:path';
import type { HFRModel, IResNet } from '@ssmb/core';
import { ConfigError } from '../config.ts';
import { protocolFoldNames } from '../cli_support.ts';
import { buildBackbone, imageSizeOf } from '../train/model.ts';
import { useEngine } from '../train/engine.ts';
import { buildHfr, evalOptions } from '../train/train_run.ts';
import { baselineEmbedFn, hfrEmbedFn } from './embed_fns.ts';
import type { RunContext, RunOutcome } from '../worker/run_context.ts';
import { evaluateProtocolFold, type EmbedFn } from './evaluate_fold.ts';

export async function runEvaluation(ctx: RunContext): Promise<RunOutcome> {
  const { config, run, store } = ctx;
  await useEngine(ctx);
  const folds = config.dataset.fold === 'all' ? await protocolFoldNames(config.dataset.protocol) : [config.dataset.fold];
  let model: HFRModel | IResNet;
  let fn: EmbedFn;
  if (config.method === 'baseline') {
    const backbone = buildBackbone(config, run.initFrom);
    model = backbone;
    fn = baselineEmbedFn(backbone);
  } else {
    if (!run.initFrom) throw new ConfigError('an ssmb evaluation needs the trained model: pass --checkpoint FILE (or use method=baseline)');
    const hfr = buildHfr(config, run.initFrom);
    model = hfr;
    fn = hfrEmbedFn(hfr);
  }
  try {
    const size = imageSizeOf(config, 'backbone' in model ? model.backbone : model);
    store.setRunEnvironment(run.id, { totalSteps: folds.length });
    ctx.progress.start(`run ${run.id} evaluate`, folds.length);
    const done = new Set(store.getEvalMetrics(run.id).map((m) => `${m.protocol}/${m.fold}`));
    for (let i = 0; i < folds.length; i++) {
      if (!done.has(`${config.dataset.protocol}/${folds[i]}`)) {
        const scoreDir = config.eval.scoreFiles ? path.join(ctx.runDir, 'scores') : null;
        const { record, scoreFile } = await evaluateProtocolFold(fn, evalOptions(config, size, scoreDir, folds[i]));
        store.recordEvaluation(run.id, record);
        if (scoreFile) store.addArtifact(run.id, 'scores', scoreFile);
      }
      ctx.tick(i + 1);
      ctx.progress.update(i + 1);
      if (ctx.shouldStop() && i + 1 < folds.length) {
        ctx.progress.stop();
        return 'stopped';
      }
    }
    ctx.progress.stop();
    return 'completed';
  } finally {
    model.dispose();
  }
}
