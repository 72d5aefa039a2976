import { packageConfig } from '../../vitest.shared.ts';

// core's tests are computations only (graphs, kernels, parity): both cores, measured 326 s -> 224 s wall
export default packageConfig('core', { maxWorkers: 2 });
