// `ssmb evaluate`: evaluate the frozen backbone (method=baseline) or a trained model (its checkpoint) on
// protocol folds: the training protocol's (dataset.protocol), or others' (--eval-protocol, repeatable: a
// model trained on the pooled protocol evaluated on each modality pair; trained identities refused).
import type { Command } from 'commander';
import { ON_MISSING } from '@ssmb/protocols';
import { ALIGN_METRICS, BITDEPTH_MISMATCH_METRIC, collect, configFromCli, launchAndRun, MULTI_FACE_METRICS, SKIPPED_METRICS } from '@ssmb/trainer';

const SCORES = ['rank1', 'tar_far_1e2', 'tar_far_1e3', 'eer', 'auc'];
const ROLE_OF = new Map<string, string>(Object.entries(SKIPPED_METRICS).map(([role, key]) => [key, role]));
const MULTI_FACE_ROLE = new Map<string, string>(Object.entries(MULTI_FACE_METRICS).map(([role, key]) => [key, role]));

/** `--on-missing skip` is `--set dataset.onMissing=skip`, checked here so a typo names the flag. */
export function onMissingSet(value: string | undefined): string[] {
  if (value === undefined) return [];
  if (!(ON_MISSING as readonly string[]).includes(value)) throw new Error(`--on-missing must be one of ${ON_MISSING.join(', ')}, received ${JSON.stringify(value)}`);
  return [`dataset.onMissing=${value}`];
}

/** `--eval-protocol A --eval-protocol B` is `--set dataset.evalProtocols=[A,B]`. */
export function evalProtocolSet(names: string[] | undefined): string[] {
  if (!names?.length) return [];
  const bad = names.filter((n) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n));
  if (bad.length) throw new Error(`--eval-protocol: ${bad.map((n) => JSON.stringify(n)).join(', ')} is not a protocol name (letters, digits, '.', '_', '-')`);
  return [`dataset.evalProtocols=[${names.join(',')}]`];
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate on every fold asked (dataset.fold=<id> or all); results go to the run store')
    .requiredOption('--store <file>', 'run store (SQLite file; created when missing)')
    .option('--experiment <name>', 'experiment name', 'evaluate')
    .option('-c, --config <file>', 'config override file (JSON or YAML); repeatable', collect, [])
    .option('-s, --set <key=value>', 'config override, e.g. dataset.fold=all method=baseline; repeatable', collect, [])
    .option('--checkpoint <file>', 'trained model to evaluate (a train run\'s checkpoint or model.safetensors; its method and dataset.protocol as trained)')
    .option('--eval-protocol <name>', 'evaluate on this protocol\'s folds instead of dataset.protocol\'s (the protocol the model trained on); repeatable (dataset.evalProtocols)', collect, [])
    .option('--on-missing <error|skip>', 'list entries whose file is missing: error (default) fails naming them; skip leaves them out and records how many (dataset.onMissing)')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      const config = configFromCli({ ...o, set: [...(o.set ?? []), ...onMissingSet(o.onMissing), ...evalProtocolSet(o.evalProtocol)] });
      const { runId, store } = await launchAndRun(o.store, config, { experiment: o.experiment, kind: 'evaluate', initFrom: o.checkpoint, quiet: o.quiet });
      const metrics = store.getEvalMetrics(runId);
      store.close();
      console.log(`run ${runId}`);
      for (const r of metrics.filter((m) => SCORES.includes(m.metric))) {
        console.log(`${r.protocol} fold ${r.fold} ${r.metric} ${r.value.toFixed(4)}${r.metric.startsWith('tar') ? ` (${r.count} impostors)` : ''}`);
      }
      for (const r of metrics) {
        if (ROLE_OF.has(r.metric) && r.value > 0) console.log(`${r.protocol} fold ${r.fold} skipped ${r.value} ${ROLE_OF.get(r.metric)} entr${r.value === 1 ? 'y' : 'ies'} (file missing; dataset.onMissing=skip)`);
        if (r.metric === BITDEPTH_MISMATCH_METRIC) console.log(`${r.protocol} fold ${r.fold} warning: ${r.value} image(s) not of the bit depth the protocol spec declares (\`ssmb protocols check\` names them)`);
        if (r.metric === ALIGN_METRICS.centreCropped) console.log(`${r.protocol} fold ${r.fold} warning: ${r.value} image(s) centre-cropped instead of aligned (the worker log names them)`);
        if (r.metric === ALIGN_METRICS.noFace) console.log(`${r.protocol} fold ${r.fold} warning: no face detected in ${r.value} image(s)`);
        if (MULTI_FACE_ROLE.has(r.metric)) console.log(`${r.protocol} fold ${r.fold} note: ${r.value} ${MULTI_FACE_ROLE.get(r.metric)} image(s) hold several faces (dataset.detectFaces.pick chose one in each)`);
      }
    });
}
