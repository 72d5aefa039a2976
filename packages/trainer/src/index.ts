// @ssmb/trainer: run store, config, training, evaluation, checkpoints, worker.
export * from './store/index.ts';
export * from './config.ts';
export * from './launch.ts';
export * from './metric_keys.ts';
export { runWorker, defaultOwner, type WorkerOptions, type WorkerSummary } from './worker/worker.ts';
export * from './launchers/slurm.ts';
export * from './launchers/cancel.ts';
export { createProgress, silentProgress, type ProgressReporter } from './worker/progress.ts';
export { codeVersion } from './worker/code_version.ts';
export * from './worker/run_context.ts';
export { detectExecutor, executorLabel } from './worker/executor.ts';
export * from './cli_support.ts';
export { loadRunModel, buildRunModel, type RunModel, type LoadRunModelOptions } from './train/run_model.ts';
export { createEvalEmbedder, withEvalEmbedder, type EvalEmbedder, type EvalEngine, type RoutedEmbeddings } from './eval/embedders.ts';
export { EVAL_ENGINE_TAG } from './eval/evaluate_fold.ts';
export * from './tables/index.ts';
export * from './reproduce/index.ts';
