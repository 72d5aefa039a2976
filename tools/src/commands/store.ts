// `ssmb store migrate|check`: schema upgrades and integrity of a run store file.
import type { Command } from 'commander';
import { RunStore } from '@ssmb/trainer';

export function register(program: Command): void {
  const store = program.command('store').description('run store maintenance');
  store
    .command('migrate')
    .requiredOption('--store <file>', 'run store (SQLite file)')
    .action((o) => {
      const { from, to } = RunStore.migrate(o.store);
      console.log(from === to ? `${o.store} is already at schema version ${to}` : `${o.store}: migrated schema ${from} -> ${to}`);
    });
  store
    .command('check')
    .requiredOption('--store <file>', 'run store (SQLite file)')
    .action((o) => {
      const s = RunStore.open(o.store, { readonly: true });
      try {
        const result = s.integrityCheck();
        console.log(`${o.store}: schema version ${s.schemaVersion()}, integrity ${result}`);
        if (result !== 'ok') process.exitCode = 1;
      } finally {
        s.close();
      }
    });
}
