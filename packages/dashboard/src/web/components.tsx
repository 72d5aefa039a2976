// Small pieces several views share (kept here so views never import each other).
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { GroupSummary, RunSummary } from './api.ts';
import { useMeta } from './meta.ts';
import { fmtAgo, STATUS_COLORS } from './format.ts';

/** Status badge; a running run whose lease expired is "stale" (its worker died or hangs). */
export function StatusBadge({ run }: { run: Pick<RunSummary, 'status' | 'stale' | 'cancelRequestedAt' | 'leaseExpiresAt' | 'error'> }) {
  const label = run.stale ? 'stale' : run.status;
  const title = run.error && run.status === 'failed'
    ? `failed: ${run.error}`
    : run.stale
    ? `running, but its worker's lease expired ${fmtAgo(run.leaseExpiresAt)}: the worker died or hangs; the next worker re-queues it`
    : run.cancelRequestedAt
      ? 'a cancel was requested: the worker checkpoints and stops'
      : run.status;
  return (
    <span className="badge-wrap" data-status={label}>
      <span className="badge" style={{ background: STATUS_COLORS[label] ?? '#999' }} title={title}>{label}</span>
      {run.cancelRequestedAt && run.status === 'running' ? <span className="badge ghost" title={title}>cancelling</span> : null}
    </span>
  );
}

/** The method + experiment selects that the Ablation, Parallel and Paper tables views filter runs by. */
export function MethodExperimentFilters(props: { method: string; setMethod: (v: string) => void; experiment: string; setExperiment: (v: string) => void }) {
  const meta = useMeta();
  return (
    <>
      <label className="check">method
        <select value={props.method} onChange={(e) => props.setMethod(e.target.value)} aria-label="method">
          <option value="">any</option><option value="ssmb">ssmb</option><option value="baseline">baseline</option>
        </select>
      </label>
      <select value={props.experiment} onChange={(e) => props.setExperiment(e.target.value)} aria-label="experiment">
        <option value="">all experiments</option>
        {meta?.experiments.map((e) => <option key={e.id} value={e.id}>{e.name}</option>)}
      </select>
    </>
  );
}

export function ErrorBox({ error }: { error: { message: string; field?: string } | undefined | null }) {
  if (!error) return null;
  return <div className="error" role="alert">{error.field ? <strong>{error.field}: </strong> : null}{error.message}</div>;
}

/** ⚠ beside a TAR@FAR that rests on fewer than 10 false accepts (FAR x impostor pairs), with why. */
export function FewFalseAccepts({ s }: { s: Pick<GroupSummary, 'falseAccepts' | 'fewFalseAccepts'> }) {
  if (!s.fewFalseAccepts || s.falseAccepts === null) return null;
  return (
    <span className="warn-text" data-testid="few-fa" title={`This operating point rests on about ${s.falseAccepts.toFixed(1)} false accept${s.falseAccepts >= 1.5 ? 's' : ''} (FAR × impostor pairs): fewer than 10, so the TAR is set by one or two impostor scores, not a rate.`}>
      {' '}⚠
    </span>
  );
}


/**
 * Draws its children once they come near the viewport, or when the browser is idle, whichever is first:
 * the first screen of a page with 20+ charts draws before the rest, and the rest still draws without
 * scrolling (screenshots, find-in-page). Until then a box of the same height keeps the layout still.
 */
export function Deferred({ height, children }: { height: number; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (shown || !ref.current) return;
    const show = () => setShown(true);
    const io = typeof IntersectionObserver === 'function' ? new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && show(), { rootMargin: '200px' }) : null;
    if (io) io.observe(ref.current);
    else show();
    const idle = typeof requestIdleCallback === 'function' ? requestIdleCallback(show, { timeout: 3000 }) : window.setTimeout(show, 200);
    return () => {
      io?.disconnect();
      if (typeof cancelIdleCallback === 'function') cancelIdleCallback(idle);
      else window.clearTimeout(idle);
    };
  }, [shown]);
  return shown ? <>{children}</> : <div ref={ref} className="deferred" style={{ height }} data-deferred="" />;
}
