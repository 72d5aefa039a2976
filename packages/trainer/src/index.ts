// @ssmb/trainer: run store, config, training, evaluation, checkpoints, worker.
export * from './store/index.ts';
export * from './config.ts';
