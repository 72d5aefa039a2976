// Routing statistics and heatmap colours (pure: used by the run page, the routing comparison and tests).
// Separation: normalised mutual information between an image's modality and the expert it is routed to,
// per SSMB block. 1 = the expert tells the modality (and back); 0 = routing ignores the modality.
import type { RoutingRow } from './api.ts';

export interface BlockRouting {
  block: string;
  modalities: string[];
  experts: number[];
  /** counts[m][e]: images of modality m routed to expert e. */
  counts: number[][];
  /** NMI(modality; expert) in [0, 1]; null when there is nothing to separate (one modality, or no images). */
  nmi: number | null;
  /** Experts no image of any modality uses (from 0..numExperts-1, so experts absent from the rows count too). */
  unused: number[];
}

const entropy = (p: number[]) => -p.reduce((a, x) => (x > 0 ? a + x * Math.log(x) : a), 0);

/**
 * Normalised mutual information of a contingency table (rows: modalities, columns: experts), normalised by
 * the arithmetic mean of the two entropies (scikit-learn's default): 2 I(M;E) / (H(M) + H(E)).
 * null when there are no counts or only one modality has images (H(M) = 0: nothing to separate);
 * 0 when every image goes to one expert (H(E) = 0: routing carries no information).
 */
export function normalizedMutualInfo(counts: number[][]): number | null {
  for (const row of counts) for (const c of row) if (!Number.isFinite(c) || c < 0) throw new Error(`routing counts: expected finite counts >= 0, received ${c}`);
  const total = counts.flat().reduce((a, c) => a + c, 0);
  if (total === 0) return null;
  const pm = counts.map((row) => row.reduce((a, c) => a + c, 0) / total);
  const cols = Math.max(0, ...counts.map((r) => r.length));
  const pe = Array.from({ length: cols }, (_, e) => counts.reduce((a, row) => a + (row[e] ?? 0), 0) / total);
  const hm = entropy(pm);
  const he = entropy(pe);
  if (hm === 0) return null;
  if (he === 0) return 0;
  let mi = 0;
  counts.forEach((row, m) => row.forEach((c, e) => {
    if (c > 0) mi += (c / total) * Math.log(c / total / (pm[m] * pe[e]));
  }));
  return Math.min(1, Math.max(0, (2 * mi) / (hm + he)));
}

/** Per block (display order given by `compareBlocks`), the modality x expert table, its NMI and unused experts. */
export function blockRouting(rows: RoutingRow[], numExperts: number | null, order: { blocks: (a: string, b: string) => number; modalities: (a: string, b: string) => number }): BlockRouting[] {
  const blocks = [...new Set(rows.map((r) => r.block))].sort(order.blocks);
  const modalities = [...new Set(rows.map((r) => r.modality))].sort(order.modalities);
  const seen = rows.map((r) => r.expert);
  const experts = [...new Set([...seen, ...Array.from({ length: numExperts ?? 0 }, (_, e) => e)])].sort((a, b) => a - b);
  return blocks.map((block) => {
    const counts = modalities.map(() => experts.map(() => 0));
    for (const r of rows) if (r.block === block) counts[modalities.indexOf(r.modality)][experts.indexOf(r.expert)] += r.count;
    const unused = experts.filter((_, e) => counts.every((row) => row[e] === 0));
    return { block, modalities, experts, counts, nmi: normalizedMutualInfo(counts), unused };
  });
}

// --- colours ---------------------------------------------------------------------------------------------

type Rgb = [number, number, number];
const HEAT_RGB: Rgb = [37, 99, 235];

/** A heatmap cell's background for a share in [0, 1]: the accent blue, more opaque for larger shares, over white. */
export function heatRgb(share: number): Rgb {
  const a = 0.06 + 0.9 * Math.min(1, Math.max(0, share));
  return HEAT_RGB.map((c) => Math.round(255 + (c - 255) * a)) as Rgb;
}
export const rgbCss = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

/** WCAG 2 relative luminance of an sRGB colour. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2 contrast ratio (1..21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];
/**
 * Text colour for a background: black or white, whichever contrasts more. Pure black and white are the
 * pair for which the worse background still gets >= 4.58:1 (a softer dark grey would leave mid blues near 4:1).
 */
export const textOn = (bg: Rgb): Rgb => (contrastRatio(bg, WHITE) >= contrastRatio(bg, BLACK) ? WHITE : BLACK);
