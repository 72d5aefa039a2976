// The `evaluate` run kind: the frozen backbone alone (method baseline) or an SSMB model loaded from
// --init-from (method ssmb), on one fold or every fold of the protocol (dataset.fold=all), with the
// evaluation engine of config eval.engine.
import path from 'node:path';
import { protocolFoldNames } from '../protocol_folds.ts';
import { ConfigError } from '../config.ts';
import { getMethod, labelProblem, labelUseText, METHOD_LABEL_TAG } from '../methods/index.ts';
import { imageSizeOf } from '../train/model.ts';
import { buildRunModel } from '../train/run_model.ts';
import { evalEngineOptions, useEngine } from '../train/engine.ts';
import { evalOptions } from '../train/train_run.ts';
import { withEvalEmbedder } from './embedders.ts';
import type { RunContext, RunOutcome } from '../worker/run_context.ts';
import { evaluateProtocolFold, recordFoldEvaluation } from './evaluate_fold.ts';

export async function runEvaluation(ctx: RunContext): Promise<RunOutcome> {
  const { config, run, store } = ctx;
  const method = getMethod(config.method, 'config key `method`');
  const problem = labelProblem(method, config, config.dataset.protocol);
  if (problem) throw new ConfigError(problem);
  await useEngine(ctx);
  await store.setTag(run.id, METHOD_LABEL_TAG, labelUseText(method));
  const folds = config.dataset.fold === 'all' ? await protocolFoldNames(config.dataset.protocol) : [config.dataset.fold];
  const model = buildRunModel(config, run.initFrom);
  try {
    const size = imageSizeOf(config, 'backbone' in model ? model.backbone : model);
    await store.setRunEnvironment(run.id, { totalSteps: folds.length });
    ctx.progress.start(`run ${run.id} evaluate`, folds.length);
    const done = new Set((await store.getEvalMetrics(run.id)).map((m) => `${m.protocol}/${m.fold}`));
    const outcome = await withEvalEmbedder(model, config.eval.engine, async (embedder) => {
      for (let i = 0; i < folds.length; i++) {
        if (!done.has(`${config.dataset.protocol}/${folds[i]}`)) {
          const scoreDir = config.eval.scoreFiles ? path.join(ctx.runDir, 'scores') : null;
          await recordFoldEvaluation(store, run.id, await evaluateProtocolFold(embedder, evalOptions(config, size, scoreDir, folds[i])));
        }
        ctx.tick(i + 1);
        ctx.progress.update(i + 1);
        if (ctx.shouldStop() && i + 1 < folds.length) return 'stopped' as const;
      }
      return 'completed' as const;
    }, evalEngineOptions(ctx));
    ctx.progress.stop();
    return outcome;
  } finally {
    model.dispose();
  }
}
