// Progress for a run: a cli-progress bar (steps, loss, img/s, ETA) on a terminal, or a plain log line
// every ~10% in quiet mode (for log files and CI).
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  start(label: string, total: number, startAt?: number): void;
  update(step: number, info?: { loss?: number; imgPerSec?: number }): void;
  stop(message?: string): void;
}

export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressReporter {
  return opts.quiet ? new LogProgress(opts.stream ?? process.stderr) : new BarProgress(opts.stream ?? process.stderr);
}

const fmt = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

class BarProgress implements ProgressReporter {
  private bar: cliProgress.SingleBar;
  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        format: '{label} |{bar}| {value}/{total} steps | loss {loss} | {ips} img/s | ETA {eta_formatted}',
        stream,
        hideCursor: true,
        etaBuffer: 20,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  start(label: string, total: number, startAt = 0): void {
    this.bar.start(Math.max(total, 1), startAt, { label, loss: '-', ips: '-' });
  }
  update(step: number, info: { loss?: number; imgPerSec?: number } = {}): void {
    this.bar.update(step, { loss: fmt(info.loss, 4), ips: fmt(info.imgPerSec, 1) });
  }
  stop(message?: string): void {
    this.bar.stop();
    if (message) process.stderr.write(`${message}\n`);
  }
}

class LogProgress implements ProgressReporter {
  private label = '';
  private total = 1;
  private every = 1;
  private next = 0;
  private t0 = 0;
  private s0 = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  start(label: string, total: number, startAt = 0): void {
    this.label = label;
    this.total = Math.max(total, 1);
    this.every = Math.max(1, Math.ceil(this.total / 10));
    this.next = startAt + this.every;
    this.t0 = Date.now();
    this.s0 = startAt;
  }
  update(step: number, info: { loss?: number; imgPerSec?: number } = {}): void {
    if (step < this.next && step < this.total) return;
    this.next = step + this.every;
    const rate = (step - this.s0) / Math.max((Date.now() - this.t0) / 1000, 1e-3);
    const eta = rate > 0 ? Math.round((this.total - step) / rate) : 0;
    this.stream.write(`${this.label} step ${step}/${this.total} loss ${fmt(info.loss, 4)} ${fmt(info.imgPerSec, 1)} img/s eta ${eta}s\n`);
  }
  stop(message?: string): void {
    if (message) this.stream.write(`${message}\n`);
  }
}

/** Reports nothing (library use, tests). */
export const silentProgress: ProgressReporter = { start() {}, update() {}, stop() {} };
