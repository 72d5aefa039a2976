// The run page's embedding map: per evaluated fold, the stored sample of gallery and probe embeddings
// projected to 2-D (embedding_projection.ts), coloured by modality or by identity. The sample is fetched
// and projected once the panel comes into view (a few seconds of UMAP the page should not wait for).
import { useEffect, useMemo, useRef, useState } from 'react';
import { compareModalities } from '@ssmb/trainer/display-order';
import { api, useApi } from './api.ts';
import { ErrorBox } from './components.tsx';
import { PALETTE } from './format.ts';
import { decodeVectors, projectEmbeddings } from './embedding_projection.ts';

interface Totals { gallery: number; probe: number; subjects: number }
interface SampleInfo { protocol: string; fold: string; dim: number; total: Totals; sampled: Totals }
interface Point { role: 'gallery' | 'probe'; subject: string; modality: string }
interface SampleResponse { runId: number; sample: null | { protocol: string; fold: string; dim: number; total: Totals; points: Point[]; vectors: string } }

type ColourBy = 'modality' | 'identity';
const W = 640;
const H = 420;
const PAD = 12;

/** "500 of 600 images (100 of 120 identities; gallery 200 of 240, probe 300 of 360)". */
export function sampleText(s: Pick<SampleInfo, 'total' | 'sampled'>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(s.sampled.gallery + s.sampled.probe)} of ${n(s.total.gallery + s.total.probe)} images sampled (${n(s.sampled.subjects)} of ${n(s.total.subjects)} identities; gallery ${n(s.sampled.gallery)} of ${n(s.total.gallery)}, probe ${n(s.sampled.probe)} of ${n(s.total.probe)})`;
}

export function EmbeddingPanel({ runId, version }: { runId: number; version: number }) {
  const list = useApi<{ runId: number; samples: SampleInfo[] }>(`/api/runs/${runId}/embeddings`, version);
  const [sel, setSel] = useState('');
  const [colourBy, setColourBy] = useState<ColourBy>('modality');
  // (the run shown before keeps its list until this run's answer comes: never drawn under this run's title)
  if (list.data?.runId !== runId || list.data.samples.length === 0) return null;
  const samples = list.data.samples;
  const key = (s: SampleInfo) => `${s.protocol}\0${s.fold}`;
  const cur = samples.find((s) => key(s) === sel) ?? samples[0];
  return (
    <div className="panel" data-testid="embedding-panel">
      <div className="toolbar">
        <h2>Embedding map</h2>
        <span className="dim small">UMAP of gallery and probe embeddings (unit length: distances follow the cosine scores), seeded, so the same sample always gives the same map</span>
        {samples.length > 1 && (
          <select value={key(cur)} onChange={(e) => setSel(e.target.value)} aria-label="embedding fold">
            {samples.map((s) => <option key={key(s)} value={key(s)}>{s.protocol} / {s.fold}</option>)}
          </select>
        )}
        <span className="small">colour by</span>
        {(['modality', 'identity'] as const).map((c) => (
          <label key={c} className="check small">
            <input type="radio" name={`colour-${runId}`} checked={colourBy === c} onChange={() => setColourBy(c)} aria-label={`colour by ${c}`} /> {c}
          </label>
        ))}
      </div>
      <div className="dim small" data-testid="embedding-count">{cur.protocol} / {cur.fold}: {sampleText(cur)}</div>
      <EmbeddingMap key={`${runId}/${key(cur)}`} runId={runId} protocol={cur.protocol} fold={cur.fold} colourBy={colourBy} />
    </div>
  );
}

function EmbeddingMap({ runId, protocol, fold, colourBy }: { runId: number; protocol: string; fold: string; colourBy: ColourBy }) {
  const box = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  const [state, setState] = useState<{ points?: Point[]; xy?: Array<[number, number]>; epoch?: [number, number]; error?: Error }>({});
  useEffect(() => {
    if (visible || !box.current) return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: '200px' });
    io.observe(box.current);
    return () => io.disconnect();
  }, [visible]);
  useEffect(() => {
    if (!visible) return;
    let live = true;
    (async () => {
      const r = await api<SampleResponse>(`/api/runs/${runId}/embeddings/sample?protocol=${encodeURIComponent(protocol)}&fold=${encodeURIComponent(fold)}`);
      if (!r.sample) throw new Error(`run ${runId} has no embedding sample for ${protocol} / ${fold}`);
      const { points, dim, vectors } = r.sample;
      const xy = await projectEmbeddings(decodeVectors(vectors, points.length, dim), { onEpoch: (k, n) => live && k % 25 === 0 && setState({ epoch: [k, n] }) });
      if (live) setState({ points, xy });
    })().catch((error: Error) => live && setState({ error }));
    return () => {
      live = false;
    };
  }, [visible, runId, protocol, fold]);

  const modalities = useMemo(() => [...new Set((state.points ?? []).map((p) => p.modality))].sort(compareModalities), [state.points]);
  const subjects = useMemo(() => [...new Set((state.points ?? []).map((p) => p.subject))].sort(), [state.points]);
  if (state.error) return <ErrorBox error={state.error} />;
  if (!state.points || !state.xy) {
    return (
      <div ref={box} className="embedding-map pending dim small" style={{ height: H / 2 }} data-testid="embedding-pending">
        {state.epoch ? `projecting… epoch ${state.epoch[0]} of ${state.epoch[1]}` : 'the map is drawn when it comes into view'}
      </div>
    );
  }
  const { points, xy } = state;
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => PAD + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * PAD);
  const sy = (y: number) => H - PAD - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * PAD);
  const subjectIndex = new Map(subjects.map((s, i) => [s, i]));
  // Identities: hues a golden angle apart, so neighbours in the sorted list differ most.
  const colour = (p: Point) => (colourBy === 'modality' ? PALETTE[modalities.indexOf(p.modality) % PALETTE.length] : `hsl(${(subjectIndex.get(p.subject)! * 137.508) % 360}, 70%, 42%)`);
  return (
    <div className="embedding-map">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" style={{ maxWidth: W, display: 'block' }} role="img" aria-label={`embedding map of ${points.length} images`} data-testid="embedding-svg">
        <rect x={0} y={0} width={W} height={H} fill="#fff" stroke="#e5e7eb" />
        {points.map((p, i) => {
          const [cx, cy] = [sx(xy[i][0]), sy(xy[i][1])];
          const title = <title>{`${p.subject} · ${p.modality} · ${p.role}`}</title>;
          return p.role === 'gallery'
            ? <rect key={i} className="pt" data-role="gallery" x={cx - 3} y={cy - 3} width={6} height={6} fill={colour(p)} fillOpacity={0.85}>{title}</rect>
            : <circle key={i} className="pt" data-role="probe" cx={cx} cy={cy} r={3.2} fill={colour(p)} fillOpacity={0.85}>{title}</circle>;
        })}
      </svg>
      <div className="small row" data-testid="embedding-legend">
        <span data-testid="embedding-drawn">{points.length.toLocaleString('en-US')} points drawn</span>
        <span className="dim">■ gallery · ● probe</span>
        {colourBy === 'modality'
          ? modalities.map((m, i) => <span key={m}><span style={{ color: PALETTE[i % PALETTE.length] }}>●</span> {m}</span>)
          : <span className="dim">one colour per identity ({subjects.length} identities)</span>}
      </div>
    </div>
  );
}
