// `ssmb evaluate`: evaluate the frozen backbone (method=baseline) or an SSMB checkpoint on protocol folds.
import type { Command } from 'commander';
import { collect, configFromCli, launchAndRun } from '@ssmb/trainer';

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate on every fold asked (dataset.fold=<id> or all); results go to the run store')
    .requiredOption('--store <file>', 'run store (SQLite file; created when missing)')
    .option('--experiment <name>', 'experiment name', 'evaluate')
    .option('-c, --config <file>', 'config override file (JSON or YAML); repeatable', collect, [])
    .option('-s, --set <key=value>', 'config override, e.g. dataset.fold=all method=baseline; repeatable', collect, [])
    .option('--checkpoint <file>', 'SSMB training checkpoint to evaluate (method=ssmb)')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      const config = configFromCli(o);
      const { runId, store } = await launchAndRun(o.store, config, { experiment: o.experiment, kind: 'evaluate', initFrom: o.checkpoint, quiet: o.quiet });
      const rows = store.getEvalMetrics(runId).filter((m) => ['rank1', 'tar_far_1e2', 'tar_far_1e3', 'eer', 'auc'].includes(m.metric));
      store.close();
      console.log(`run ${runId}`);
      for (const r of rows) console.log(`${r.protocol} fold ${r.fold} ${r.metric} ${r.value.toFixed(4)}${r.metric.startsWith('tar') ? ` (${r.count} impostors)` : ''}`);
    });
}
