// Paper tables: configs, building (mean +- std over folds, literature beside ours) and exports.
export * from './metrics.ts';
export * from './config.ts';
export * from './references.ts';
export * from './build.ts';
export * from './format.ts';
export * from './match.ts';
export * from './routing.ts';
export * from './load.ts';
export * from './significance.ts';
export * from './row_difference.ts';
