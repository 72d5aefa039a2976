// Picks the tf backend a run asked for (core's initBackend; SSMB_BACKEND env wins) and records it.
import { initBackend, type EngineName } from '@ssmb/core';
import type { RunContext } from '../worker/run_context.ts';
import { fixWasmOneHot } from './wasm_onehot_fix.ts';

export async function useEngine(ctx: RunContext): Promise<EngineName> {
  const engine = await initBackend(ctx.config.engine === 'auto' ? {} : { prefer: ctx.config.engine });
  if (engine === 'wasm') fixWasmOneHot();
  ctx.store.setRunEnvironment(ctx.run.id, { engine });
  return engine;
}
