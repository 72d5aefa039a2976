// Browser-side API client: typed fetch helpers, the token (sent only as a header), the live event stream
// (fetch-based, so it carries the header too) and downloads through short-lived signed links.
// Wire types: JSON has no NaN, so values the store returns as NaN arrive as null.
import { useEffect, useRef, useState } from 'react';
import type { FixedLossChange, MetricSpec, MinibatchLossChange, PaperTable, RunState, RunStatus } from '@ssmb/trainer';
import type { DashboardEvent } from '../events.ts';

export type { MetricSpec, PaperTable, DashboardEvent, RunStatus };

export interface Experiment { id: number; name: string; description: string; runCount: number; archivedCount: number }
export interface TableConfigInfo { name: string; title: string; file: string; rows: string[]; columns: string[]; presets: Array<{ label: string; set: string[] }> }
export interface Meta {
  store: string;
  experiments: Experiment[];
  evalMetrics: string[];
  metricSpecs: Record<string, MetricSpec>;
  configKeys: string[];
  listMetrics: string[];
  launchKinds: string[];
  runStatuses: RunStatus[];
  tableConfigs: TableConfigInfo[];
  limits: { maxSweepRuns: number };
  /** Paper tables: metrics of a table by key, and how many cells fit side by side before one table per metric. */
  tables: { defaultMetrics: string[]; wideCells: number };
  roots: { output: string[]; data: string[]; weights: string[] };
  auth: { writeTokenRequired: boolean; exposed: boolean };
}

export interface Latest { key: string; step: number; value: number | null; time: number; points: number; min: number | null; max: number | null }
export interface RunSummary {
  id: number; experimentId: number; experimentName: string; parentRunId: number | null; name: string; kind: string; method: string | null;
  status: RunStatus; seed: number; engine: string | null; codeVersion: string | null; createdAt: number; startedAt: number | null; finishedAt: number | null;
  heartbeatAt: number | null; leaseOwner: string | null; leaseExpiresAt: number | null; attempts: number; maxAttempts: number; step: number;
  totalSteps: number | null; error: string | null; archived: boolean; stale: boolean; cancelRequestedAt: number | null;
  /** What executes the run: 'local' | 'slurm' | 'k8s', its job (Slurm array job id) and task (array task id). */
  launcher: string | null; launcherJob: string | null; launcherTask: string | null;
  backbone: string | null; numExperts: number | null; protocol: string | null; fold: string | null;
  tags: Record<string, string>; metrics: Record<string, number | null>; latest: Record<string, Latest>;
  /** Config values of the columns asked for (?columns=), null where the key does not apply. */
  values?: Record<string, unknown>;
}
/** A runs-list row (GET /api/runs leaves out what only the run page needs). */
export type RunListRow = Omit<RunSummary, 'codeVersion' | 'heartbeatAt' | 'leaseOwner' | 'maxAttempts' | 'experimentId' | 'seed' | 'engine' | 'latest'> & {
  latest: Record<string, Omit<Latest, 'key' | 'time'>>;
};
export interface RunsResponse { runs: RunListRow[]; total: number; /** per requested latest key: which way is better (null: neither) */ latestBetter?: Record<string, 'lower' | 'higher' | null> }
export interface MetricStat { mean: number | null; std: number | null; n: number }
export interface RunGroupRow {
  key: string; label: string; values: Record<string, unknown>; runIds: number[]; folds: string[]; seeds: number[]; statuses: Record<string, number>;
  protocol: string | null; method: string | null; backbone: string | null; numExperts: number | null; experiments: string[]; metrics: Record<string, MetricStat>; latestId: number;
}
export interface RunGroupsResponse { by: string[]; defaultBy: boolean; runsTotal: number; total: number; groups: RunGroupRow[] }
export interface GroupSummary { group: string; protocol: string; metric: string; mean: number | null; std: number | null; n: number; runs: number; folds: Record<string, number | null>; falseAccepts: number | null; fewFalseAccepts: boolean }
export interface GroupDiff { diff: number; leader: string; significant: boolean; ttest: { n: number; p: number; df: number; ci95: [number, number] } | null; bootstrap: { ci95: [number, number]; resamples: number } | null }
export interface GroupRanking { protocol: string; metric: string; best: string | null; tied: string[]; differences: Record<string, GroupDiff | null> }
export interface CompareGroup { key: string; label: string; runIds: number[]; folds: string[]; seeds: number[]; protocol: string | null }
export interface MetricKeyInfo extends Latest { group: string; better: 'lower' | 'higher' | null; unit: string }
export interface EvalRow { runId: number; protocol: string; fold: string; metric: string; value: number | null; count: number | null }
export interface MetricSummary {
  runId: number; protocol: string; metric: string; mean: number | null; std: number | null; n: number; folds: Record<string, number | null>;
  /** TAR@FAR: the false accepts the operating point rests on; flagged below 10. */
  falseAccepts: number | null; fewFalseAccepts: boolean;
}
export interface FileRow { runId: number; kind: string; storedPath: string; step: number | null; createdAt: number }
/** The trainer's runConvergence (train/convergence.ts): the convergence criterion for an SSMB training run. */
export interface RunConvergenceInfo { totalSteps: number; threshold: number; fixed: FixedLossChange; minibatch: MinibatchLossChange }
export interface RunResponse {
  run: RunSummary & { config: unknown; params: Record<string, string> };
  convergence: RunConvergenceInfo | null;
  inapplicable: string[];
  metricKeys: MetricKeyInfo[];
  evaluations: Array<EvalRow & { falseAccepts: number | null; fewFalseAccepts: boolean }>;
  summary: MetricSummary[];
  /** What ran: tf backend, training engine (provider, threads, why it fell back), evaluation engine. */
  engines: { backend: string | null; train: string | null; provider: string | null; threads: string | null; fallback: string | null; eval: string | null };
  files: FileRow[];
}
/** A number on the wire: JSON has no NaN or +-Infinity, so those come as strings (Number() reads them back). */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';
/** One metric's history as plotted: `total` finite-or-infinite points, `nan` NaN points besides (never drawn). */
export interface Series { key: string; total: number; nan: number; plotted: number; steps: number[]; values: WireNumber[] }
export interface MetricsResponse { runId: number; maxPoints: number; series: Series[] }
export interface EvalCurve { protocol: string; fold: string; kind: 'roc' | 'cmc'; total: number; x: number[]; y: number[] }
export interface RoutingRow { protocol: string; fold: string; block: string; modality: string; expert: number; count: number }
export interface CompareResponse {
  runs: RunSummary[];
  labels: Record<string, string>;
  configDiff: Array<{ key: string; values: Record<string, unknown> }>;
  summary: MetricSummary[];
  latest: Record<string, Array<Latest & { group: string; better: 'lower' | 'higher' | null }>>;
  groups: CompareGroup[];
  groupSummary: GroupSummary[];
  ranking: GroupRanking[];
}
export interface CurveGroup { label: string; runIds: number[]; steps: number[]; mean: number[]; std: Array<number | null>; n: number[] }
export interface GroupedCurvesResponse { key: string; by: string | null; groups: CurveGroup[]; missing: number[] }
export interface AblationPoint { protocol: string; x: string | number | boolean | null; series?: string | number | boolean | null; mean: number | null; std: number | null; n: number; runIds: number[] }
export interface AblationResponse { metric: string; key: string; by: string | null; points: AblationPoint[]; baselines: Omit<AblationPoint, 'x'>[]; baselineScope: 'experiment' | 'store' }
export interface ParallelRun { id: number; name: string; status: string; n: number; value: number | null; values: Record<string, unknown> }
export interface ParallelResponse { metric: string; protocol: string | null; protocols: string[]; keys: string[]; candidates: string[]; runs: ParallelRun[] }
export interface TablesResponse { source: { config: string } | { rows: string }; table: PaperTable | null }
export type { RunState };

const TOKEN_KEY = 'ssmb.token';
export const getToken = () => localStorage.getItem(TOKEN_KEY) ?? '';
export const setToken = (t: string) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY));

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const authHeaders = (): Record<string, string> => {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
};

export async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>), ...authHeaders() };
  if (init.body) headers['content-type'] = 'application/json';
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const e = body?.error ?? { code: 'HTTP', message: String(body || res.statusText) };
    throw new HttpError(res.status, e.code, e.message, e.field);
  }
  return body as T;
}

export const post = <T>(url: string, body?: unknown) => api<T>(url, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

export const qs = (params: Record<string, string | number | boolean | undefined | null | Array<string | number>>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    u.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
};

/** Start a download of a read endpoint: a signed link lasting a minute (the token never goes in a URL). */
export async function download(url: string, filename: string): Promise<void> {
  const { url: signed } = await post<{ url: string }>('/api/links', { url });
  const a = document.createElement('a');
  a.href = signed;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// Reads started before the view that needs them has loaded (a run page's data while its code downloads):
// the view's first useApi of that URL takes the answer instead of asking again.
const early = new Map<string, { at: number; res: Promise<unknown> }>();
/** Starts reading `url` now; the next useApi of it (within a few seconds) uses this answer. */
export function prefetch(url: string): void {
  const e = early.get(url);
  if (e && Date.now() - e.at < 5000) return;
  const res = api(url);
  res.catch(() => undefined); // an error is reported by the useApi that takes it
  early.set(url, { at: Date.now(), res });
}
function takeEarly<T>(url: string): Promise<T> | undefined {
  const e = early.get(url);
  early.delete(url);
  return e && Date.now() - e.at < 5000 ? (e.res as Promise<T>) : undefined;
}

/** Fetch `url` whenever it (or `version`) changes; keeps the previous data while reloading. */
export function useApi<T>(url: string | null, version = 0, opts: { keepPrevious?: boolean } = {}): { data: T | undefined; error: HttpError | undefined; loading: boolean } {
  // The answer is kept with the URL it answers: a refresh of the same URL (a new version) keeps showing
  // the last answer until the new one comes, but another URL (other runs) never shows the previous
  // query's numbers as its own while it loads. A list refined as the user types (keepPrevious) keeps its
  // rows until the refined ones come, rather than blinking empty at every key.
  const [state, setState] = useState<{ url?: string; data?: T; error?: HttpError; loading: boolean }>({ loading: !!url });
  useEffect(() => {
    if (!url) return;
    let alive = true;
    setState((s) => (s.url === url || opts.keepPrevious ? { ...s, loading: true } : { url, loading: true }));
    (takeEarly<T>(url) ?? api<T>(url))
      .then((data) => alive && setState({ url, data, loading: false }))
      .catch((error: HttpError) => alive && setState((s) => ({ url, data: s.url === url ? s.data : undefined, error, loading: false })));
    return () => {
      alive = false;
    };
  }, [url, version]);
  const current = state.url === url || (opts.keepPrevious === true && url !== null);
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: url !== null && (!current || state.loading) };
}

type Listener = (ev: DashboardEvent) => void;
const listeners = new Set<Listener>();
let streaming = false;

/** Reads the server-sent event stream with fetch (so the token travels in a header), reconnecting. */
async function stream(): Promise<void> {
  for (;;) {
    try {
      const res = await fetch('/api/events', { headers: authHeaders() });
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const type = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (type && data && type !== 'hello') {
            const ev = JSON.parse(data) as DashboardEvent;
            listeners.forEach((l) => l(ev));
          }
        }
      }
    } catch {
      // the server restarted or the network dropped: retry below
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** One shared event stream for the page; components subscribe to the events they care about. */
export function useLiveEvents(fn: Listener): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l: Listener = (ev) => ref.current(ev);
    listeners.add(l);
    if (!streaming) {
      streaming = true;
      void stream();
    }
    return () => {
      listeners.delete(l);
    };
  }, []);
}

/** Calls fn at most once per `ms` (trailing), for refetching on bursts of live events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const timer = useRef<number | undefined>(undefined);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      ref.current();
    }, ms);
  };
}
