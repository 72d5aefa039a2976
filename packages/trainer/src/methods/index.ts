// The registered methods (one file each; registration order = the order listings show them in).
export * from './method.ts';
export { BASELINE } from './baseline.ts';
export { SSMB, blockOptions } from './ssmb.ts';
export { SSMB_ORACLE } from './ssmb_oracle.ts';
export { CAIM } from './caim.ts';

import { listMethods } from './method.ts';
/** Every registered method's name (the store's runs.method values; filters validate against it). */
export const RUN_METHODS = listMethods() as [string, ...string[]];
