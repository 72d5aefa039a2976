// `ssmb pretrain`: ArcFace pre-training of the backbone on VIS identities; writes a weights file.
import type { Command } from 'commander';
import { collect, configFromCli, launchAndRun, mergeConfig, validateConfig } from '@ssmb/trainer';

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pre-train the backbone with an ArcFace softmax on VIS identities (the synthetic benchmark model)')
    .requiredOption('--store <file>', 'run store (SQLite file; created when missing)')
    .option('--experiment <name>', 'experiment name', 'pretrain')
    .option('-c, --config <file>', 'config override file (JSON or YAML); repeatable', collect, [])
    .option('-s, --set <key=value>', 'config override, e.g. pretrain.steps=2000; repeatable', collect, [])
    .option('-o, --output <file>', 'weights file to write (pretrain.output)')
    .option('--init-from <file>', 'continue from these backbone weights')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      let config = configFromCli(o);
      if (o.output) config = validateConfig(mergeConfig(config, { pretrain: { output: o.output } }));
      const { runId, store } = await launchAndRun(o.store, config, { experiment: o.experiment, kind: 'pretrain', initFrom: o.initFrom, quiet: o.quiet });
      const weights = store.listArtifacts(runId).find((a) => a.kind === 'weights');
      const rank1 = store.getEvalMetrics(runId).find((m) => m.metric === 'rank1');
      store.close();
      console.log(`run ${runId}: weights ${weights?.path ?? '(none)'}${rank1 ? `, VIS-VIS rank-1 ${(rank1.value * 100).toFixed(1)}%` : ''}`);
    });
}
