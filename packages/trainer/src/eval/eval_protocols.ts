// Evaluating a model on protocols other than the one it trained on (config dataset.evalProtocols): a
// universal model trained on the pooled protocol, evaluated on each modality pair's folds. Each evaluation
// uses the same fold id as training; the identities it tests must be none the training fold trains on,
// or the numbers would measure memory, not recognition: an overlap is refused, naming it.
import { readNamedTensors } from '@ssmb/core';
import { getProtocol, loadFold } from '@ssmb/protocols';
import { ConfigError, type Config } from '../config.ts';
import { getMethod, labelProblem } from '../methods/index.ts';

/** The protocols a run evaluates: dataset.evalProtocols, or the training protocol. */
export function evalProtocolsOf(config: Config): string[] {
  return config.dataset.evalProtocols ?? [config.dataset.protocol];
}

/** What can be checked without the data: every protocol of dataset.evalProtocols is registered, and a
 *  label-aware method has a label for each evaluated image's modality. (An unknown dataset.protocol fails
 *  the run itself, as it always has.) */
export function evalProtocolProblems(config: Config): string[] {
  const problems: string[] = [];
  const method = getMethod(config.method, 'config key `method`');
  const listed = config.dataset.evalProtocols ?? [];
  for (const p of evalProtocolsOf(config)) {
    if (!listed.includes(p) && !method.label.inference) continue;
    try {
      getProtocol(p);
    } catch (err) {
      problems.push(`config key \`dataset.evalProtocols\`: ${(err as Error).message}`);
      continue;
    }
    try {
      const label = labelProblem(method, config, p);
      if (label) problems.push(label);
    } catch (err) {
      problems.push(`method ${method.name}: ${(err as Error).message}`);
    }
  }
  const dup = evalProtocolsOf(config).filter((p, i, all) => all.indexOf(p) !== i);
  if (dup.length) problems.push(`config key \`dataset.evalProtocols\`: ${dup.join(', ')} listed twice`);
  return problems;
}

const SHOW = 8;

/** Where a model was trained: the protocol and fold. */
export interface TrainedOn {
  protocol: string;
  fold: string;
}

/** The training protocol and fold recorded in a weights file or checkpoint (the config in its metadata,
 *  written by every train run); null when the file records none (imported or hand-made weights). */
export function trainedOnOf(file: string): TrainedOn | null {
  const { metadata } = readNamedTensors(file);
  if (!metadata.config) return null;
  const dataset = (JSON.parse(metadata.config) as { dataset?: { protocol?: unknown; fold?: unknown } }).dataset;
  return typeof dataset?.protocol === 'string' && typeof dataset.fold === 'string' ? { protocol: dataset.protocol, fold: dataset.fold } : null;
}

/**
 * Refuses evaluating `evalProtocol` fold `fold` with a model trained on `trainedOn` (default: the config's
 * dataset.protocol on the same fold id) when a tested identity (gallery or probe) is one the training fold
 * trains on. Nothing to check when the method trains nothing, or for the training fold itself (a protocol's
 * folds keep their test identities out of training by design).
 */
export async function checkIdentityOverlap(config: Config, evalProtocol: string, fold: string, trainedOn: TrainedOn = { protocol: config.dataset.protocol, fold }): Promise<void> {
  if (!getMethod(config.method).trains || (evalProtocol === trainedOn.protocol && fold === trainedOn.fold)) return;
  const root = config.dataset.root;
  const opts = { onMissing: config.dataset.onMissing };
  const trained = new Set((await loadFold(trainedOn.protocol, root, trainedOn.fold, { ...opts, roles: ['train'] })).train.map((s) => s.subject));
  const tested = await loadFold(evalProtocol, root, fold, { ...opts, roles: ['gallery', 'probe'] });
  const overlap = [...new Set([...tested.gallery, ...tested.probe].map((s) => s.subject))].filter((s) => trained.has(s)).sort();
  if (overlap.length) {
    throw new ConfigError(`protocol ${evalProtocol} fold ${fold} tests ${overlap.length} identit${overlap.length === 1 ? 'y' : 'ies'} that the model trained on (${trainedOn.protocol} fold ${trainedOn.fold} trains them): ${overlap.slice(0, SHOW).join(', ')}${overlap.length > SHOW ? `, ... (${overlap.length - SHOW} more)` : ''}; evaluate on a fold whose test identities its training fold keeps out (dataset.fold, dataset.evalProtocols)`);
  }
}
