// Live updates by server-sent events. One poller per server reads the store cheaply (max run id,
// max metrics rowid, the few live runs) and only while at least one client listens.
import type { ServerResponse } from 'node:http';
import type { RunReader, RunState } from '@ssmb/trainer';
import { apiError } from './errors.ts';

export type DashboardEvent =
  | { type: 'runs-added'; ids: number[] }
  | { type: 'run-updated'; run: RunState }
  | { type: 'metrics'; points: Array<{ runId: number; key: string; step: number; value: number | null }>; truncated: boolean };

const MAX_POINTS_PER_EVENT = 2000;

export class ChangeFeed {
  private clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastRunId = 0;
  private lastRowid = 0;
  private lastPoll = 0;
  private states = new Map<number, string>();
  private polling = false;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly store: RunReader,
    private readonly pollMs = 1000,
    /** Open streams per client address and in total: each holds a socket and a buffer. */
    private readonly caps = { perClient: Infinity, total: Infinity },
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Throws TOO_MANY_STREAMS when `client` may not open another stream (before the response is taken over). */
  admit(client: string): void {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.caps.perClient) throw apiError('TOO_MANY_STREAMS', `This address has ${mine} open (at most ${this.caps.perClient}).`);
    if (this.clients.size >= this.caps.total) throw apiError('TOO_MANY_STREAMS', `${this.clients.size} are open (at most ${this.caps.total}).`);
  }

  /** Take over a raw response as an event stream until the client goes away. */
  attach(res: ServerResponse, client = ''): void {
    this.admit(client);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    const first = this.clients.size === 0;
    this.clients.add(res);
    const hello = () => res.write(`event: hello\ndata: ${JSON.stringify({ lastRunId: this.lastRunId, pollMs: this.pollMs })}\n\n`);
    if (first) void this.start().then(hello);
    else hello();
    res.on('close', () => {
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
  }

  /** Broadcast an event (also used by write endpoints so every tab sees tags and archive changes). */
  publish(ev: DashboardEvent): void {
    const frame = `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;
    for (const c of this.clients) c.write(frame);
  }

  private async start(): Promise<void> {
    this.lastPoll = Date.now();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    try {
      this.lastRunId = await this.store.maxRunId();
      this.lastRowid = await this.store.maxMetricRowid();
      this.states = new Map((await this.store.liveRunStates(this.lastPoll)).map((s) => [s.id, key(s)]));
    } catch (err) {
      console.error(`dashboard: change feed could not read the store: ${(err as Error).message}`);
    }
    this.heartbeat = setInterval(() => this.clients.forEach((c) => c.write(': keep-alive\n\n')), 15_000);
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    this.timer = this.heartbeat = undefined;
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.perClient.clear();
  }

  /** One poll (never two at once); public so tests can drive it without waiting. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const maxRun = await this.store.maxRunId();
      if (maxRun > this.lastRunId) {
        const ids = Array.from({ length: maxRun - this.lastRunId }, (_, i) => this.lastRunId + 1 + i);
        this.lastRunId = maxRun;
        this.publish({ type: 'runs-added', ids });
      }
      // Runs that finished since the last poll (2 s margin for clock skew between writer and poller).
      const now = Date.now();
      const live = await this.store.liveRunStates(this.lastPoll - 2000);
      this.lastPoll = now;
      const seen = new Set<number>();
      for (const s of live) {
        seen.add(s.id);
        if (this.states.get(s.id) !== key(s)) {
          this.states.set(s.id, key(s));
          this.publish({ type: 'run-updated', run: s });
        }
      }
      for (const id of this.states.keys()) if (!seen.has(id)) this.states.delete(id);
      const maxRowid = await this.store.maxMetricRowid();
      if (maxRowid > this.lastRowid) {
        const pts = await this.store.metricPointsSince(this.lastRowid, MAX_POINTS_PER_EVENT);
        const truncated = pts.length === MAX_POINTS_PER_EVENT && pts[pts.length - 1].rowid < maxRowid;
        this.lastRowid = maxRowid;
        this.publish({
          type: 'metrics',
          points: pts.map(({ runId, key: k, step, value }) => ({ runId, key: k, step, value: Number.isNaN(value) ? null : value })),
          truncated,
        });
      }
    } catch (err) {
      // A busy or locked store must not kill the stream; the next poll retries.
      console.error(`dashboard: change poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}

const key = (s: RunState) => `${s.status}:${s.step}:${s.archived}:${s.cancelRequested}`;
