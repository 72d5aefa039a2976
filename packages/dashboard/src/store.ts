// The dashboard's store: the trainer's run store behind its interface (RunStoreApi), plus the folder it
// lives in (artifact paths are relative to it; launched runs write inside it). Routes await every store
// call, so they work unchanged over any implementation of the interface.
import { existsSync } from 'node:fs';
import { RunStore, StoreError, type RunStoreApi } from '@ssmb/trainer';

export type DashboardStore = RunStoreApi & {
  /** The store's folder. */
  readonly dir: string;
};

/** Opens an existing store read-write (tags, archive, cancel and launch write to it); never creates one. */
export function openDashboardStore(file: string): RunStore {
  if (!existsSync(file)) {
    throw new StoreError(
      'STORE_NOT_FOUND',
      `run store ${file} does not exist: pass --store FILE of a store the trainer wrote (the quickstart writes .ssmb/runs.sqlite), or create it with \`ssmb launch --store ${file} ...\``,
    );
  }
  return RunStore.open(file);
}
