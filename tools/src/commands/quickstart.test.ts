// The quickstart pipeline end to end at tiny sizes: dataset -> backbone pre-training -> grid with two
// worker processes -> table, routing, findings; then a second call that reuses everything.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { RunStore } from '@ssmb/trainer';
import { fixedLossChange, minibatchLossChange, summariseConvergence } from '@ssmb/trainer';
import { formatConvergence, freePort, QUICKSTART_COMPARISON, QUICKSTART_KIND_ABLATION, QUICKSTART_TABLE, runQuickstart, startDashboard, summariseFindings, summariseKindAblation, type QuickstartSizes } from './quickstart.ts';

const TINY: QuickstartSizes = {
  synthetic: { identities: 8, imagesPerIdentity: 2, pretrainIdentities: 12, pretrainImagesPerIdentity: 2, size: 32 },
  pretrain: { pretrain: { steps: 4, batchSize: 8 } },
  grid: { 'backbone.model': 'iresnet-tiny', steps: 2, batchSize: 4 },
};

/** The quickstart table reduced to baseline + N = 1, 2 on three protocols and two folds. */
function reducedTable(dir: string): string {
  const cfg = parse(readFileSync(QUICKSTART_TABLE, 'utf8'));
  cfg.rows = cfg.rows.filter((r: { id: string }) => ['baseline', 'ssmb-n1', 'ssmb-n2'].includes(r.id));
  cfg.columns = cfg.columns
    .filter((c: { id: string }) => ['vis-vis', 'vis-thermal', 'vis-universal'].includes(c.id))
    .map((c: Record<string, unknown>) => ({ ...c, folds: ['1', '2'] }));
  const file = path.join(dir, 'quick.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** The expert-kind ablation reduced to baseline, style N=1 and affine N = 1, 2 on two folds. */
function reducedAblation(dir: string): string {
  const cfg = parse(readFileSync(QUICKSTART_KIND_ABLATION, 'utf8'));
  cfg.rows = cfg.rows.filter((r: { id: string }) => ['baseline', 'style-n1', 'affine-n1', 'affine-n2'].includes(r.id));
  cfg.columns = cfg.columns.map((c: Record<string, unknown>) => ({ ...c, folds: ['1', '2'] }));
  const file = path.join(dir, 'ablation.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** The comparison reduced to two folds of VIS-VIS, VIS-THERMAL and VIS-UNIVERSAL; its per-pair SSMB row is
 *  the reduced main table's N = 2 (reused), the universal rows N = 1, 4 and the oracle. */
function reducedComparison(dir: string): string {
  const cfg = parse(readFileSync(QUICKSTART_COMPARISON, 'utf8'));
  cfg.rows = cfg.rows.filter((r: { id: string }) => ['baseline', 'caim', 'ssmb-pair', 'ssmb-uni-n1', 'ssmb-uni-n4', 'oracle-uni'].includes(r.id));
  const pair = cfg.rows.find((r: { id: string }) => r.id === 'ssmb-pair');
  Object.assign(pair, { label: 'SSMB N=2 (per pair)', set: { method: 'ssmb', 'ssmb.numExperts': 2 } });
  cfg.columns = cfg.columns
    .filter((c: { id: string }) => ['vis-vis', 'vis-thermal', 'vis-universal'].includes(c.id))
    .map((c: { rows?: string[] }) => ({ ...c, folds: ['1', '2'], ...(c.rows ? { rows: c.rows.filter((r) => cfg.rows.some((x: { id: string }) => x.id === r)) } : {}) }));
  const file = path.join(dir, 'comparison.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

describe('quickstart (reduced)', () => {
  it('runs dataset, backbone, grid, table and routing; a second call reuses everything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-quickstart-'));
    const table = reducedTable(dir);
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const res = await runQuickstart({ stateDir: dir, table, sizes: TINY, workers: 2, serve: false, log, bar: false });

    // 1-2: cached artefacts exist, behind stable links
    expect(existsSync(path.join(res.datasetRoot, 'manifest.json'))).toBe(true);
    expect(realpathSync(path.join(dir, 'synthetic'))).toBe(res.datasetRoot);
    expect(realpathSync(path.join(dir, 'backbone.safetensors'))).toBe(res.weights);
    // 3: every run of the grid completed: baseline 3 columns x 2 folds, SSMB 2 rows x 2 columns x 2 folds
    expect(res.plan).toEqual({ total: 14, completed: 14, pending: 0, todo: 0 });
    expect(res.failed).toEqual([]);
    // 4: every Rank-1 and EER cell averages both folds (TAR@FAR=1% and 0.1% need more impostor scores
    // per fold, which this tiny gallery does not have, so they stay empty), routing covers pooled modalities
    for (const row of res.table.rows) {
      for (const col of row.cells) {
        if (!col) continue;
        for (const cell of col.filter((c) => !c.metric.startsWith('tar_far_'))) {
          expect(cell.stat?.n).toBe(2);
          expect(Number.isFinite(cell.stat!.mean)).toBe(true);
        }
      }
    }
    expect(res.table.rows.find((r) => r.id === 'ssmb-n1')!.cells[0]).toBeNull(); // VIS-VIS is the baseline's only
    expect(res.routingText).toMatch(/SSMB N=2 on VIS-UNIVERSAL \(2 experts\)/);
    for (const m of ['NIR', 'THERMAL', 'SKETCH']) expect(res.routingText).toContain(`${m} -> e`);
    expect(res.findings.some((f) => f.startsWith('VIS-THERMAL: baseline Rank-1'))).toBe(true);
    expect(res.findings.some((f) => f.startsWith('VIS-UNIVERSAL: SSMB N=1'))).toBe(true);
    for (const f of Object.values(res.files!)) expect(existsSync(f)).toBe(true);
    // the convergence line: every SSMB run (2 rows x 2 columns x 2 folds) measured on its fixed pairs (the
    // table's train.lossEvery 10 at 2 steps: estimates at 0 and 2); the minibatch figure needs both halves of
    // the last fifth, which 2 steps do not have, and says n/a rather than dropping anything
    expect(res.convergence).toMatchObject({ total: 8, measured: 8 });
    expect(res.convergence.under + res.convergence.over.length).toBe(8);
    expect(res.convergenceText[0]).toBe(`loss on 32 fixed pairs over the last fifth of training: median ${(100 * res.convergence.median!).toFixed(1)}%, max ${(100 * res.convergence.max!).toFixed(1)}%, ${res.convergence.under} of 8 SSMB runs under 5%`);
    expect(res.convergenceText[1]).toMatch(/^  minibatch loss .*: median n\/a, max n\/a, 0 of 8 under 5%/);
    if (res.convergence.over.length) expect(res.convergenceText).toContain(`  over 5% (${res.convergence.over.length}):`);
    for (const r of res.convergence.runs) expect(r.fixed).toMatchObject({ measurable: true, from: { step: 0 }, to: { step: 2 } });
    expect(lines).toContain(`  ${res.convergenceText[0]}`);
    expect(lines.join('\n')).toMatch(/Frozen baseline \(no SSMB\)/);
    const store = RunStore.open(path.join(dir, 'runs.sqlite'));
    expect(store.listRuns({ kind: 'pretrain', status: 'completed' })).toHaveLength(1);
    store.close();

    expect(res.ablation).toBeUndefined(); // the expert-kind ablation is opt-in

    // again: nothing is regenerated, retrained or rerun, and the table is the same; with the ablation
    // beside it, whose baseline and style N=1 runs on VIS-UNIVERSAL are the main grid's
    const again: string[] = [];
    const res2 = await runQuickstart({ stateDir: dir, table, sizes: TINY, workers: 2, serve: false, log: (l) => again.push(l), bar: false, ablation: reducedAblation(dir), compare: reducedComparison(dir) });
    expect(again.join('\n')).toMatch(/synthetic benchmark: cached/);
    expect(again.join('\n')).toMatch(/backbone: cached/);
    expect(again.join('\n')).toMatch(/14 already completed, 0 queued\/running, 0 to run/);
    expect(res2.table).toEqual(res.table);
    expect(again.join('\n')).toMatch(/table ablation-expert-kind: 8 runs \(4 rows x 1 columns x folds\); 4 already completed, 0 queued\/running, 4 to run/);
    expect(res2.ablation!.failed).toEqual([]);
    expect(res2.ablation!.plan).toMatchObject({ total: 8, completed: 8 });
    expect(again.join('\n')).toMatch(/\[4\/5\] ablation: Ablation: expert kind x N/);
    expect(res2.ablation!.findings).toHaveLength(2);
    expect(res2.ablation!.findings[0]).toMatch(/^VIS-UNIVERSAL style: N=1 \d+\.\d% \(frozen baseline \d+\.\d%\)$/);
    expect(res2.ablation!.findings[1]).toMatch(/^VIS-UNIVERSAL affine: N=1 \d+\.\d% vs N=2 \d+\.\d% \([+-]\d+\.\d\) \(frozen baseline \d+\.\d%\)$/);
    expect(again.join('\n')).toContain(`  ${res2.ablation!.findings[1]}`);
    // the comparison after it: baseline and per-pair runs reused (2 x 3 + 2), caim 2 and the universal rows
    // one run per fold each (3 x 2), every universal run evaluated on each of its three columns
    const cmp = res2.comparison!;
    expect(cmp.failed).toEqual([]);
    expect(again.join('\n')).toMatch(/table comparison: 16 runs \(6 rows x 3 columns x folds\); 8 already completed, 0 queued\/running, 8 to run/);
    expect(cmp.table.rows.find((r) => r.id === 'oracle-uni')).toMatchObject({ labelAware: true, train: 'synthetic-vis-universal' });
    for (const c of ['vis-vis', 'vis-thermal', 'vis-universal']) {
      const ci = cmp.table.columns.findIndex((x) => x.id === c);
      expect(cmp.table.rows.find((r) => r.id === 'ssmb-uni-n4')!.cells[ci]![0].stat!.n, c).toBe(2);
    }
    expect(cmp.findings).toContainEqual(expect.stringMatching(/^VIS-THERMAL: SSMB N=4 \(universal\) vs SSMB N=2 \(per pair\): [+-]\d+\.\d points, (95% CI \[-?\d+\.\d, -?\d+\.\d\]|2 folds, no interval)/));
    expect(cmp.findings).toContainEqual(expect.stringMatching(/^VIS-UNIVERSAL: N = 1 vs N = 4: [+-]\d+\.\d points, 95% CI \[-?\d+\.\d, -?\d+\.\d\]/));
    expect(again.join('\n')).toContain(`  ${cmp.findings[0]}`);

    // 5: the dashboard serves this store and lists the runs
    const port = await freePort(17000 + (process.pid % 1000));
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()));
    expect(await freePort(port)).toBe(port + 1); // a busy port is skipped
    busy.close();
    const dash = await startDashboard(path.join(dir, 'runs.sqlite'), port, () => {});
    try {
      const body = (await (await fetch(`${dash.url}/api/runs`)).json()) as { runs: unknown[] };
      expect(body.runs.length).toBeGreaterThanOrEqual(15); // 14 grid runs + the pre-training
    } finally {
      dash.process.kill('SIGTERM');
    }
  });
});

describe('formatConvergence', () => {
  it('the fixed-pair line, the minibatch line, runs over 5% and unmeasurable runs, with counts', () => {
    const pts = (xs: Array<[number, number]>) => xs.map(([step, value]) => ({ step, value }));
    const mb = pts([[9, 1], [10, 1.02]]);
    const run = (runId: number, label: string, fixed: Array<[number, number]>) => ({ runId, label, totalSteps: 10, fixed: fixedLossChange(pts(fixed), 10), minibatch: minibatchLossChange(mb, 10) });
    const s = summariseConvergence([
      run(1, 'SSMB N=1 / VIS-NIR / fold 1', [[0, 2], [8, 1], [10, 0.99]]),
      run(2, 'SSMB N=2 / VIS-NIR / fold 1', [[0, 2], [8, 1], [10, 0.98]]),
      run(3, 'SSMB N=4 / VIS-NIR / fold 1', [[0, 2], [8, 1], [10, 0.9]]),
      { runId: -1, label: 'SSMB N=4 / VIS-NIR / fold 2', totalSteps: 10, fixed: { measurable: false as const, reason: 'no run in the store' }, minibatch: { measurable: false as const, reason: 'no run in the store' } },
    ]);
    expect(formatConvergence(s, [32, 32, 32])).toEqual([
      'loss on 32 fixed pairs over the last fifth of training: median 2.0%, max 10.0%, 2 of 4 SSMB runs under 5% (1 not measurable)',
      "  minibatch loss (a new random batch each step; last fifth's second half vs first half): median 2.0%, max 2.0%, 3 of 4 under 5%; its coefficient of variation within the last fifth: median 1.4%",
      '  over 5% (1):',
      '    SSMB N=4 / VIS-NIR / fold 1 (run 3): 10.0% (loss/fixed 1.0000 at step 8 -> 0.9000 at step 10)',
      '  not measurable (1):',
      '    SSMB N=4 / VIS-NIR / fold 2: no run in the store',
    ]);
  });
});

describe('summariseKindAblation', () => {
  it('per kind: N = 1 against each N > 1, with the frozen baseline', () => {
    const stat = (mean: number) => [{ metric: 'rank1', stat: { mean, std: 0, n: 3 }, expected: 3, best: false }];
    const rows = [
      { id: 'baseline', set: { method: 'baseline' }, v: 16.4 },
      { id: 'style-n1', set: { method: 'ssmb', 'ssmb.expertKind': 'style', 'ssmb.numExperts': 1 }, v: 45.6 },
      { id: 'style-n4', set: { method: 'ssmb', 'ssmb.expertKind': 'style', 'ssmb.numExperts': 4 }, v: 43.2 },
      { id: 'affine-n2', set: { method: 'ssmb', 'ssmb.expertKind': 'affine', 'ssmb.numExperts': 2 }, v: 42.2 },
      { id: 'affine-n1', set: { method: 'ssmb', 'ssmb.expertKind': 'affine', 'ssmb.numExperts': 1 }, v: 37.2 },
    ];
    const cfg = { rows: rows.map(({ id, set }) => ({ id, label: id, set })) } as never;
    const t = {
      name: 't', title: 'T', metrics: [{ key: 'rank1', label: 'Rank-1', percent: true, better: 'higher' as const, decimals: 2 }],
      columns: [{ id: 'vis-universal', label: 'VIS-UNIVERSAL', protocol: 'c' }],
      rows: rows.map(({ id, v }) => ({ id, label: id, kind: 'ours' as const, cells: [stat(v)] })),
    };
    expect(summariseKindAblation(cfg, t)).toEqual([
      'VIS-UNIVERSAL style: N=1 45.6% vs N=4 43.2% (-2.4) (frozen baseline 16.4%)',
      'VIS-UNIVERSAL affine: N=1 37.2% vs N=2 42.2% (+5.0) (frozen baseline 16.4%)',
    ]);
  });
});

describe('summariseFindings', () => {
  it('states the drop, the recovery and N = 1 against N > 1', () => {
    const stat = (mean: number) => [{ metric: 'rank1', stat: { mean, std: 0, n: 3 }, expected: 3, best: false }];
    const t = {
      name: 't', title: 'T', metrics: [{ key: 'rank1', label: 'Rank-1', percent: true, better: 'higher' as const, decimals: 2 }],
      columns: [{ id: 'vis-vis', label: 'VIS-VIS', protocol: 'a' }, { id: 'vis-thermal', label: 'VIS-THERMAL', protocol: 'b' }, { id: 'vis-universal', label: 'VIS-UNIVERSAL', protocol: 'c' }],
      rows: [
        { id: 'baseline', label: 'Frozen baseline', kind: 'ours' as const, cells: [stat(100), stat(40), stat(50)] },
        { id: 'ssmb-n1', label: 'SSMB N=1', kind: 'ours' as const, cells: [null, stat(70), stat(60)] },
        { id: 'ssmb-n4', label: 'SSMB N=4', kind: 'ours' as const, cells: [null, stat(85), stat(75)] },
      ],
    };
    const lines = summariseFindings(t);
    expect(lines.slice(0, 2)).toEqual([
      'VIS-THERMAL: baseline Rank-1 40.0% (VIS-VIS 100.0%, drop 60.0 points); best SSMB N=4 85.0% (+45.0), recovering 75% of the drop',
      'VIS-UNIVERSAL: baseline Rank-1 50.0% (VIS-VIS 100.0%, drop 50.0 points); best SSMB N=4 75.0% (+25.0), recovering 50% of the drop',
    ]);
    expect(lines[2]).toBe('VIS-UNIVERSAL: SSMB N=1 60.0% vs SSMB N=4 75.0% (+15.0 points)'); // no fold values: the difference alone
    // with the per-fold values the table keeps: the difference's interval and test, as the tables decide bold
    const folds = (vs: number[]) => vs.map((value, i) => ({ fold: String(i + 1), value, trials: 200 }));
    t.rows[1].cells[2]![0] = { ...t.rows[1].cells[2]![0], folds: folds([0.58, 0.6, 0.62]) } as never;
    t.rows[2].cells[2]![0] = { ...t.rows[2].cells[2]![0], folds: folds([0.74, 0.75, 0.76]) } as never;
    expect(summariseFindings(t)[2]).toMatch(/^VIS-UNIVERSAL: SSMB N=1 60\.0% vs SSMB N=4 75\.0% \(\+15\.0 points, 95% CI \[\d+\.\d, \d+\.\d\]\)$/);
    t.rows[2].cells[2]![0] = { ...t.rows[2].cells[2]![0], folds: folds([0.5, 0.75, 0.9]) } as never; // folds disagree
    expect(summariseFindings(t)[2]).toMatch(/\(the interval excludes 0 but the paired t-test over folds does not \(p = 0\.\d\d\): not significant\)\)$/);
  });
});
