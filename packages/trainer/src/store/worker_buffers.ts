// Remote workers' buffers of undelivered writes, as they last reported them to the tracking server:
// one file in the store's folder (worker-buffers.json), written by the server only, read by `ssmb runs
// list` (through the server, or beside a store file). A buffer is listed while its worker said it holds
// writes not yet delivered, and leaves the list when that worker (or `ssmb worker --replay DIR`) reports
// it empty. A worker killed outright reports nothing more: the list holds what it said last.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const WORKER_BUFFERS_FILE = 'worker-buffers.json';

export interface WorkerBufferReport {
  /** The worker's owner id (its credential's). */
  owner: string;
  /** The host the buffer folder is on. */
  host: string;
  /** The buffer folder (`ssmb worker --replay DIR` delivers it, on that host). */
  dir: string;
  /** Writes not delivered, and their metric points and bytes. */
  entries: number;
  points: number;
  bytes: number;
  /** Undelivered writes per run id. */
  runs: Record<string, number>;
  /** When the server received the report (ms since the epoch). */
  reportedAt: number;
}

/** The buffers listed in the store's folder (none when the file is missing). */
export function readWorkerBuffers(storeDir: string): WorkerBufferReport[] {
  const file = path.join(storeDir, WORKER_BUFFERS_FILE);
  if (!existsSync(file)) return [];
  const data = JSON.parse(readFileSync(file, 'utf8')) as { buffers?: WorkerBufferReport[] };
  return data.buffers ?? [];
}

/** Records one worker's report (an empty buffer leaves the list); written whole and renamed into place. */
export function recordWorkerBuffer(storeDir: string, report: WorkerBufferReport): WorkerBufferReport[] {
  const same = (b: WorkerBufferReport) => b.owner === report.owner && b.host === report.host && b.dir === report.dir;
  const buffers = [...readWorkerBuffers(storeDir).filter((b) => !same(b)), ...(report.entries > 0 ? [report] : [])];
  const file = path.join(storeDir, WORKER_BUFFERS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ buffers }, null, 2)}\n`);
  renameSync(tmp, file);
  return buffers;
}

/** Undelivered writes per run id over all buffers, with where they wait. */
export function undeliveredByRun(buffers: WorkerBufferReport[]): Map<number, Array<{ host: string; dir: string; writes: number }>> {
  const out = new Map<number, Array<{ host: string; dir: string; writes: number }>>();
  for (const b of buffers) {
    for (const [id, n] of Object.entries(b.runs)) {
      if (!(n > 0)) continue;
      const list = out.get(Number(id)) ?? [];
      list.push({ host: b.host, dir: b.dir, writes: n });
      out.set(Number(id), list);
    }
  }
  return out;
}
