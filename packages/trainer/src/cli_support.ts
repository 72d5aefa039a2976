// Shared by the CLI commands (tools/src/commands) and the dashboard: config options and protocol folds.
import { resolveConfig, type Config } from './config.ts';
import { launchRun, type LaunchOptions } from './launch.ts';
import { RunStore } from './store/run_store.ts';
import { runWorker } from './worker/worker.ts';

/** commander collector for repeatable options (--set a=1 --set b=2). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface ConfigCliOptions {
  config?: string[];
  set?: string[];
}

/** The run config a command line gives; the paths it names (dataset.root, backbone.weights, ...) absolute. */
export function configFromCli(o: ConfigCliOptions): Config {
  return resolveConfig({ files: o.config ?? [], sets: o.set ?? [], cwd: process.cwd() });
}

export { protocolFoldNames } from './protocol_folds.ts';

/** Queues one run and executes it in this process (pretrain/evaluate commands); throws on failure. */
export async function launchAndRun(
  storeFile: string,
  config: Config,
  opts: LaunchOptions & { quiet?: boolean },
): Promise<{ runId: number; store: RunStore }> {
  const store = RunStore.open(storeFile);
  const runId = launchRun(store, config, opts);
  const s = await runWorker({ store, runId, quiet: opts.quiet });
  if (s.failed.length > 0) {
    store.close();
    throw new Error(`run ${runId} failed: ${s.failed[0].error}`);
  }
  if (s.completed.length === 0) {
    store.close();
    throw new Error(`run ${runId} did not complete (stopped or lost its lease); continue it with \`ssmb resume ${runId} --store ${storeFile}\``);
  }
  return { runId, store };
}
