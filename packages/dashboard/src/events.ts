// Live updates by server-sent events. One poller per server reads the store cheaply (max run id,
// max metrics rowid, the few live runs) and only while at least one client listens.
import type { ServerResponse } from 'node:http';
import type { ActiveRunState, DashboardQueries } from './store.ts';

export type DashboardEvent =
  | { type: 'runs-added'; ids: number[] }
  | { type: 'run-updated'; run: ActiveRunState }
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

  constructor(
    private readonly queries: DashboardQueries,
    private readonly pollMs = 1000,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Take over a raw response as an event stream until the client goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    if (this.clients.size === 0) this.start();
    this.clients.add(res);
    res.write(`event: hello\ndata: ${JSON.stringify({ lastRunId: this.lastRunId, pollMs: this.pollMs })}\n\n`);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
  }

  /** Broadcast an event (also used by write endpoints so every tab sees tags and archive changes). */
  publish(ev: DashboardEvent): void {
    const frame = `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;
    for (const c of this.clients) c.write(frame);
  }

  private start(): void {
    this.lastRunId = this.queries.maxRunId();
    this.lastRowid = this.queries.maxMetricRowid();
    this.lastPoll = Date.now();
    this.states = new Map(this.queries.liveRunStates(this.lastPoll).map((s) => [s.id, key(s)]));
    this.timer = setInterval(() => this.poll(), this.pollMs);
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
  }

  /** One poll; public so tests can drive it without waiting. */
  poll(): void {
    try {
      const maxRun = this.queries.maxRunId();
      if (maxRun > this.lastRunId) {
        const ids = Array.from({ length: maxRun - this.lastRunId }, (_, i) => this.lastRunId + 1 + i);
        this.lastRunId = maxRun;
        this.publish({ type: 'runs-added', ids });
      }
      // Runs that finished since the last poll (2 s margin for clock skew between writer and poller).
      const now = Date.now();
      const live = this.queries.liveRunStates(this.lastPoll - 2000);
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
      const maxRowid = this.queries.maxMetricRowid();
      if (maxRowid > this.lastRowid) {
        const pts = this.queries.metricPointsSince(this.lastRowid, MAX_POINTS_PER_EVENT);
        const truncated = pts.length === MAX_POINTS_PER_EVENT && pts[pts.length - 1].rowid < maxRowid;
        this.lastRowid = maxRowid;
        this.publish({ type: 'metrics', points: pts.map(({ runId, key: k, step, value }) => ({ runId, key: k, step, value })), truncated });
      }
    } catch (err) {
      // A busy or locked store must not kill the stream; the next poll retries.
      console.error(`dashboard: change poll failed: ${(err as Error).message}`);
    }
  }
}

const key = (s: ActiveRunState) => `${s.status}:${s.step}:${s.archived}`;
