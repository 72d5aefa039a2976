// Timing for the bench. The clock is this process's CPU time by default on single-threaded engines
// (wasm, cpu): there it equals wall time on an idle machine, and on a shared machine it leaves out the
// time spent waiting for a core. Multi-threaded engines (tfjs-node) use wall time. BENCH_CLOCK=wall|cpu
// overrides.
import { tf } from '../src/index.ts';

export type Clock = 'cpu' | 'wall';

let clock: Clock = 'wall';

export function setClock(engine: string): Clock {
  const forced = process.env.BENCH_CLOCK;
  if (forced !== undefined && forced !== 'cpu' && forced !== 'wall') {
    throw new Error(`BENCH_CLOCK='${forced}' is not a clock; expected cpu or wall`);
  }
  clock = (forced as Clock | undefined) ?? (engine === 'wasm' || engine === 'cpu' ? 'cpu' : 'wall');
  return clock;
}

function now(): number {
  if (clock === 'wall') return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
}

/** Mean time (ms, on the bench clock) of `reps` runs of fn after `warmup` untimed ones; outputs disposed. */
export function timeIt(fn: () => tf.Tensor | tf.Tensor[], reps: number, warmup = 1): number {
  const run = () => {
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync(); // wait for the backend to finish
    tf.dispose(list);
  };
  for (let i = 0; i < warmup; i++) run();
  const t0 = now();
  for (let i = 0; i < reps; i++) run();
  return (now() - t0) / reps;
}
