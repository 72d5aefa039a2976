// The `evaluate` run kind: the frozen backbone alone (method baseline) or a trained model of its method
// loaded from --init-from, on one fold or every fold (dataset.fold=all) of each evaluation protocol
// (dataset.evalProtocols, default the training protocol dataset.protocol), with the evaluation engine of
// config eval.engine.
import path from 'node:path';
import { protocolFoldNames } from '../protocol_folds.ts';
import { ConfigError } from '../config.ts';
import { getMethod, labelUseText, METHOD_LABEL_TAG } from '../methods/index.ts';
import { checkIdentityOverlap, evalProtocolProblems, evalProtocolsOf, trainedOnOf } from './eval_protocols.ts';
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
  const problems = evalProtocolProblems(config);
  if (problems.length) throw new ConfigError(problems.join('; '));
  await useEngine(ctx);
  await store.setTag(run.id, METHOD_LABEL_TAG, labelUseText(method));
  // (protocol, fold) pairs: each evaluation protocol on the fold asked, or on every fold it declares
  const folds: { protocol: string; fold: string }[] = [];
  for (const protocol of evalProtocolsOf(config)) {
    for (const fold of config.dataset.fold === 'all' ? await protocolFoldNames(protocol) : [config.dataset.fold]) folds.push({ protocol, fold });
  }
  // a trained model's weights record where it trained: no evaluated identity may be one it trained on
  const trainedOn = run.initFrom && method.trains ? trainedOnOf(run.initFrom) : null;
  for (const f of folds) await checkIdentityOverlap(config, f.protocol, f.fold, trainedOn ?? undefined);
  const model = buildRunModel(config, run.initFrom);
  try {
    const size = imageSizeOf(config, 'backbone' in model ? model.backbone : model);
    await store.setRunEnvironment(run.id, { totalSteps: folds.length });
    ctx.progress.start(`run ${run.id} evaluate`, folds.length);
    const done = new Set((await store.getEvalMetrics(run.id)).map((m) => `${m.protocol}/${m.fold}`));
    const outcome = await withEvalEmbedder(model, config.eval.engine, async (embedder) => {
      for (let i = 0; i < folds.length; i++) {
        if (!done.has(`${folds[i].protocol}/${folds[i].fold}`)) {
          const scoreDir = config.eval.scoreFiles ? path.join(ctx.runDir, 'scores') : null;
          await recordFoldEvaluation(store, run.id, await evaluateProtocolFold(embedder, evalOptions(config, size, scoreDir, folds[i].fold, folds[i].protocol)));
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
