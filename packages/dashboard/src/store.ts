// The dashboard's store: the trainer's run store behind its interface (RunStoreApi), plus the folder it
// lives in (artifact paths are relative to it; launched runs write inside it). Routes await every store
// call, so they work unchanged over any implementation of the interface.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { RunStore, StoreError, type RunStoreApi } from '@ssmb/trainer';

export type DashboardStore = RunStoreApi & {
  /** The store's folder. */
  readonly dir: string;
};

/**
 * Opens a store read-write (tags, archive, cancel and launch write to it). The dashboard never creates
 * one (a typo'd --store would show an empty store); the tracking server (`create`) does, with its
 * folder: it is started first on a cluster and then owns the store.
 */
export function openDashboardStore(file: string, opts: { create?: boolean } = {}): RunStore {
  if (opts.create) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return RunStore.open(file);
  }
  if (!existsSync(file)) {
    throw new StoreError(
      'STORE_NOT_FOUND',
      `run store ${file} does not exist: pass --store FILE of a store the trainer wrote (the quickstart writes .ssmb/runs.sqlite), or start the tracking server, which creates it: \`ssmb serve --store ${file}\``,
    );
  }
  return RunStore.open(file);
}
