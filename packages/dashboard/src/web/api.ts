// Browser-side API client: typed fetch helpers, the write token, and the live event stream.
import { useEffect, useRef, useState } from 'react';
import type {
  AblationPoint, EvalRow, FileRow, MetricKeyInfo, RoutingRow, RunDetail, RunSummary,
} from '../store.ts';
import type { MetricSummary } from '../analysis.ts';
import type { MetricSpec, PaperTable } from '../store.ts';
import type { DashboardEvent } from '../events.ts';

export type { MetricSpec, AblationPoint, EvalRow, FileRow, MetricKeyInfo, MetricSummary, PaperTable, RoutingRow, RunDetail, RunSummary, DashboardEvent };

export interface Meta {
  store: string;
  experiments: Array<{ id: number; name: string; description: string; runs: number }>;
  evalMetrics: string[];
  metricSpecs: Record<string, MetricSpec>;
  configKeys: string[];
  listMetrics: string[];
  auth: { writeTokenRequired: boolean; exposed: boolean };
}
export interface RunsResponse { runs: RunSummary[]; total: number }
export interface RunResponse { run: RunDetail; metricKeys: MetricKeyInfo[]; evaluations: EvalRow[]; summary: MetricSummary[]; files: FileRow[] }
export interface Series { key: string; total: number; plotted: number; steps: number[]; values: number[] }
export interface MetricsResponse { runId: number; maxPoints: number; series: Series[] }
export interface EvalCurve { protocol: string; fold: string; kind: 'roc' | 'cmc'; total: number; x: number[]; y: number[] }
export interface CompareResponse { runs: RunSummary[]; configDiff: Array<{ key: string; values: Record<string, unknown> }>; summary: MetricSummary[] }

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

export async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.body) headers['content-type'] = 'application/json';
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const e = body?.error ?? { code: 'HTTP', message: String(body || res.statusText) };
    throw new HttpError(res.status, e.code, e.message, e.field);
  }
  return body as T;
}

export const qs = (params: Record<string, string | number | boolean | undefined | null | Array<string | number>>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    u.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
};

/** Fetch `url` whenever it (or `version`) changes; keeps the previous data while reloading. */
export function useApi<T>(url: string | null, version = 0): { data: T | undefined; error: HttpError | undefined; loading: boolean } {
  const [state, setState] = useState<{ data?: T; error?: HttpError; loading: boolean }>({ loading: !!url });
  useEffect(() => {
    if (!url) return;
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>(url)
      .then((data) => alive && setState({ data, loading: false }))
      .catch((error: HttpError) => alive && setState((s) => ({ data: s.data, error, loading: false })));
    return () => {
      alive = false;
    };
  }, [url, version]);
  return { data: state.data, error: state.error, loading: state.loading };
}

type Listener = (ev: DashboardEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

/** One shared EventSource for the page; components subscribe to the events they care about. */
export function useLiveEvents(fn: Listener): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l: Listener = (ev) => ref.current(ev);
    listeners.add(l);
    if (!source) {
      const token = getToken();
      source = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
      for (const type of ['runs-added', 'run-updated', 'metrics']) {
        source.addEventListener(type, (e) => {
          const ev = JSON.parse((e as MessageEvent).data) as DashboardEvent;
          listeners.forEach((x) => x(ev));
        });
      }
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
