// Genuine/impostor score histograms as the charts draw them (pure: tested in node). Impostors outnumber
// genuine comparisons about 100:1, so each class is drawn as its share of that class's comparisons per bin.
export interface ScoreHistogram {
  protocol: string;
  fold: string;
  lo: number;
  hi: number;
  genuine: number[];
  impostor: number[];
  outside: { genuine: number; impostor: number };
}

export interface HistogramSeries {
  name: string;
  /** Comparisons of this class in the bins (those outside are counted in `outside`). */
  total: number;
  outside: number;
  /** Per bin, its share of `total` (0 when the class has none). */
  share: number[];
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

/** Bin centres of a histogram: equal-width bins over [lo, hi]. */
export function binCentres(h: Pick<ScoreHistogram, 'lo' | 'hi' | 'genuine'>): number[] {
  const w = (h.hi - h.lo) / h.genuine.length;
  return h.genuine.map((_, i) => h.lo + (i + 0.5) * w);
}

/** Counts summed bin by bin over folds (all on the same bins; a different binning is an error naming both). */
export function sumHistograms(hs: ScoreHistogram[]): Omit<ScoreHistogram, 'protocol' | 'fold'> {
  if (hs.length === 0) throw new Error('sumHistograms: no histograms given');
  const [a] = hs;
  for (const h of hs) {
    if (h.lo !== a.lo || h.hi !== a.hi || h.genuine.length !== a.genuine.length) {
      throw new Error(`sumHistograms: ${h.protocol}/${h.fold} has ${h.genuine.length} bins over [${h.lo}, ${h.hi}], ${a.protocol}/${a.fold} ${a.genuine.length} over [${a.lo}, ${a.hi}]`);
    }
  }
  const add = (k: 'genuine' | 'impostor') => a[k].map((_, i) => sum(hs.map((h) => h[k][i])));
  return { lo: a.lo, hi: a.hi, genuine: add('genuine'), impostor: add('impostor'), outside: { genuine: sum(hs.map((h) => h.outside.genuine)), impostor: sum(hs.map((h) => h.outside.impostor)) } };
}

/** The two classes of a histogram as drawn series. */
export function histogramSeries(h: Omit<ScoreHistogram, 'protocol' | 'fold'>, prefix = ''): HistogramSeries[] {
  return (['genuine', 'impostor'] as const).map((k) => {
    const total = sum(h[k]);
    return { name: `${prefix}${k}`, total, outside: h.outside[k], share: h[k].map((c) => (total ? c / total : 0)) };
  });
}

/** The score range worth drawing: the bins any series uses, one empty bin either side, within [lo, hi]. */
export function usedRange(h: Pick<ScoreHistogram, 'lo' | 'hi' | 'genuine'>, series: HistogramSeries[]): [number, number] {
  const w = (h.hi - h.lo) / h.genuine.length;
  const used = h.genuine.map((_, i) => series.some((s) => s.share[i] > 0));
  const first = used.indexOf(true);
  if (first < 0) return [h.lo, h.hi];
  const last = used.lastIndexOf(true);
  return [Math.max(h.lo, h.lo + (first - 1) * w), Math.min(h.hi, h.lo + (last + 2) * w)];
}
