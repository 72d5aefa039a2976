// Reproducing paper tables: grid expansion, preflight checks, skip-completed planning, results.
export * from './grid.ts';
export * from './preflight.ts';
export * from './resume.ts';
export * from './results.ts';
export * from './run_grid.ts';
