// Picks the tf backend a run asked for (core's initBackend; SSMB_BACKEND env wins; on wasm it installs
// core's kernels, incl. a correct OneHot) and records it.
import { initBackend, type EngineName } from '@ssmb/core';
import type { RunContext } from '../worker/run_context.ts';

export async function useEngine(ctx: RunContext): Promise<EngineName> {
  const engine = await initBackend(ctx.config.engine === 'auto' ? {} : { prefer: ctx.config.engine });
  await ctx.store.setRunEnvironment(ctx.run.id, { engine });
  return engine;
}
