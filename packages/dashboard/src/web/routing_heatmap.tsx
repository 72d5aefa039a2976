// The routing heatmap (one modality x expert table per SSMB block) and the per-block line above it (its
// separation score and unused experts), shared by the run page and the routing view.
import { useMemo } from 'react';
import type { RoutingRow } from './api.ts';
import { textOn } from './format.ts';
import { blockRouting, type BlockRouting } from './routing.ts';

const heatAlpha = (share: number) => 0.06 + 0.9 * share;
const heat = (share: number) => `rgba(37, 99, 235, ${heatAlpha(share)})`;
/** The heat colour as drawn on the white panel (for choosing readable text on it). */
const heatRgb = (share: number): [number, number, number] => {
  const a = heatAlpha(share);
  return [37 * a + 255 * (1 - a), 99 * a + 255 * (1 - a), 235 * a + 255 * (1 - a)];
};

const NMI_HINT = 'normalised mutual information between modality and expert: 1 = each modality has its own expert, 0 = none; – = one modality only, nothing to separate';

/** A block's separation score and the experts no image reaches; `compact` for table cells. */
export function BlockSummary({ b, compact = false }: { b: BlockRouting; compact?: boolean }) {
  const nmi = b.nmi === null ? '–' : b.nmi.toFixed(2);
  return (
    <span className="small block-summary">
      <span className="dim" title={NMI_HINT}>{compact ? 'NMI ' : 'separation (NMI) '}<span data-testid="routing-nmi">{nmi}</span></span>
      {b.unused.length > 0 && (
        <span className="warn-text" data-testid="routing-unused" title="no gallery or probe image is routed to these experts">
          {compact
            ? ` · unused: ${b.unused.map((e) => `expert ${e}`).join(', ')}`
            : ` ${b.unused.length} of ${b.experts.length} experts unused (${b.unused.map((e) => `expert ${e}`).join(', ')}): no image is routed to them`}
        </span>
      )}
    </span>
  );
}

/**
 * Routing heatmap: one modality x expert table per SSMB block; colour = share of that modality's images,
 * text black or white, whichever reads better on the cell. Unused experts' columns are marked.
 */
export function RoutingHeatmap({ rows, numExperts }: { rows: RoutingRow[]; numExperts?: number | null }) {
  const blocks = useMemo(() => blockRouting(rows, numExperts ?? null), [rows, numExperts]);
  return (
    <div data-testid="routing-heatmap">
      <div className="row">
        {blocks.map((b) => (
          <div key={b.block}>
            <div className="chart-title" data-testid="routing-block-title">{b.block} <BlockSummary b={b} /></div>
            <div className="scroll-x">
              <table className="heat" data-block={b.block}>
                <thead>
                  <tr><th>modality</th>{b.experts.map((e) => <th key={e} className={b.unused.includes(e) ? 'unused' : ''}>expert {e}</th>)}</tr>
                </thead>
                <tbody>
                  {b.modalities.map((m, mi) => {
                    const total = b.counts[mi].reduce((a, c) => a + c, 0) || 1;
                    return (
                      <tr key={m}>
                        <th>{m}</th>
                        {b.experts.map((e, ei) => {
                          const n = b.counts[mi][ei];
                          const share = n / total;
                          return (
                            <td key={e} title={`${n} ${m} images (${(share * 100).toFixed(1)}%)`} style={{ background: heat(share), color: textOn(heatRgb(share)) }}>
                              {(share * 100).toFixed(0)}%<span className="heat-n">{n}</span>
                            </td>
                          );
                        })}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </div>
        ))}
      </div>
      <div className="scale" data-testid="routing-scale">
        <span>0%</span>
        <span className="scale-bar" style={{ background: `linear-gradient(to right, ${heat(0)}, ${heat(0.5)}, ${heat(1)})` }} />
        <span>100% of the modality's images</span>
      </div>
    </div>
  );
}
