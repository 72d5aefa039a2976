import { describe, expect, it, vi } from 'vitest';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createIResNet, initBackend, saveWeights } from '@ssmb/core';
import { generateSyntheticDataset, getProtocol, protocolFolds } from '@ssmb/protocols';
import { enqueuePlan, expandGrid, loadTableConfig, planGrid, RunStore } from '@ssmb/trainer';
import { buildServer } from '@ssmb/dashboard';
import { datasetProblems, missingCells, REPO_ROOT, runReproduce } from './reproduce.ts';

const TOKEN = 'reproduce-test-token';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'ssmb-reproduce-'));

describe('reproduce preflight', () => {
  it('names every missing path before any training starts and writes nothing to the store', async () => {
    const dir = tmp();
    const store = path.join(dir, 'runs.sqlite');
    const root = path.join(dir, 'no-such-casia');
    const weights = path.join(dir, 'no-such-weights.safetensors');
    const err = await runReproduce({ config: path.join(REPO_ROOT, 'tables/main-casia.yaml'), roots: { casia: root }, weights, store, log: () => {} }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain(root);
    expect(err.message).toContain(weights);
    expect(err.message).toMatch(/nothing was run/);
    expect(existsSync(store)).toBe(false);
  });

  it('lists the protocol files missing under an existing but incomplete dataset root', async () => {
    const dir = tmp();
    const root = path.join(dir, 'casia');
    mkdirSync(root);
    const err = await runReproduce({
      config: path.join(REPO_ROOT, 'tables/main-casia.yaml'), roots: { casia: root }, weights: path.join(dir, 'w.safetensors'), store: path.join(dir, 's.sqlite'), log: () => {},
    }).catch((e) => e);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain('protocols/vis_gallery_1.txt');
    expect(err.message).toContain('protocols/nir_probe_10.txt');
    expect(err.message).toContain(path.join(dir, 'w.safetensors'));
  });
});

describe('reproduce on the synthetic benchmark', () => {
  it('runs the grid with workers, writes Markdown/CSV/LaTeX, and skips completed runs when called again', async () => {
    const dir = tmp();
    const root = path.join(dir, 'synth');
    await generateSyntheticDataset({ root, identities: 8, imagesPerIdentity: 2, pretrainIdentities: 0, size: 32 });
    const weights = path.join(dir, 'tiny.safetensors');
    await initBackend({ prefer: 'cpu' });
    saveWeights(createIResNet('iresnet-tiny', { seed: 1 }), weights); // a fixed (untrained) backbone is enough here
    const config = path.join(dir, 'table.yaml');
    writeFileSync(config, stringify({
      name: 'repro-test',
      title: 'Reproduce test',
      datasets: { synth: { root: null } },
      base: { backbone: { model: 'iresnet-tiny' }, steps: 2, batchSize: 4 },
      rows: [
        { id: 'baseline', label: 'Baseline', set: { method: 'baseline' } },
        { id: 'n2', label: 'SSMB N=2', set: { method: 'ssmb', 'ssmb.numExperts': 2 } },
      ],
      columns: [
        { id: 'nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir', folds: [1, 2] },
        { id: 'sketch', label: 'VIS-SKETCH', dataset: 'synth', protocol: 'synthetic-vis-sketch', folds: [1] },
      ],
    }));
    const store = path.join(dir, 'runs.sqlite');
    const out = path.join(dir, 'out');
    const lines: string[] = [];
    const res = await runReproduce({ config, roots: { synth: root }, weights, store, out, workers: 2, log: (l) => lines.push(l), bar: false });
    expect(res.plan, lines.join("\n")).toEqual({ total: 6, completed: 6, pending: 0, todo: 0 });
    expect(res.failed).toEqual([]);
    const rank1 = res.table.metrics.findIndex((m) => m.key === 'rank1');
    expect(res.table.rows.map((r) => r.cells.map((c) => c?.[rank1].stat?.n))).toEqual([[2, 1], [2, 1]]);
    expect(readFileSync(res.files!.md, 'utf8')).toContain('| Method | VIS-NIR Rank-1 |');
    expect(readFileSync(res.files!.csv, 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 2 * 3);
    expect(readFileSync(res.files!.tex, 'utf8')).toContain('\\multicolumn{3}{c}{VIS-SKETCH}');
    expect(lines.join('\n')).toMatch(/0 already completed, 0 queued\/running, 6 to run/);

    const again: string[] = [];
    const res2 = await runReproduce({ config, roots: { synth: root }, weights, store, out, workers: 2, log: (l) => again.push(l), bar: false });
    expect(again.join('\n')).toMatch(/6 already completed, 0 queued\/running, 0 to run/);
    expect(res2.table).toEqual(res.table);
    const s = RunStore.open(store);
    expect(s.listRuns()).toHaveLength(6); // nothing was run twice
    s.close();

    // The same table through the tracking server, from a client with no store (a second login node): the
    // server plans and queues the grid, its workers report to it, the table is built from its answers,
    // and this process never opens a store file.
    mkdirSync(path.join(dir, 'server'));
    const served = RunStore.open(path.join(dir, 'server', 'runs.sqlite'));
    const srv = await buildServer({ store: served, token: TOKEN, webRoot: path.join(dir, 'no-web'), pollMs: 60_000, staleGraceMs: 0, roots: { data: [root], weights: [dir] } });
    const narrow = await buildServer({ store: served, token: TOKEN, webRoot: path.join(dir, 'no-web'), pollMs: 60_000 });
    await srv.app.listen({ host: '127.0.0.1', port: 0 });
    await narrow.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(srv.app.server.address() as AddressInfo).port}`;
    const narrowUrl = `http://127.0.0.1:${(narrow.app.server.address() as AddressInfo).port}`;
    const opened = vi.spyOn(RunStore, 'open');
    try {
      const viaServer: string[] = [];
      const common = { config, roots: { synth: root }, weights, workers: 2, bar: false };
      // Its paths are held to the server's roots, as on the Launch page: nothing is queued.
      await expect(runReproduce({ ...common, out: path.join(dir, 'narrow'), log: () => {}, slurm: { server: narrowUrl, token: TOKEN } })).rejects.toThrow(
        `the tracking server ${narrowUrl} answered POST /api/grids with 400 PATH_NOT_ALLOWED`,
      );
      expect(served.listRuns()).toEqual([]);
      await expect(runReproduce({ ...common, store, log: () => {}, slurm: { server: url, token: TOKEN } })).rejects.toThrow('pass --store FILE (this machine\'s store) or --server URL (the tracking server that owns it), not both');
      const remote = await runReproduce({ ...common, out: path.join(dir, 'server-out'), log: (l) => viaServer.push(l), slurm: { server: url, token: TOKEN } });
      expect(opened).not.toHaveBeenCalled();
      expect(remote.missing, viaServer.join('\n')).toEqual([]);
      expect(viaServer.join('\n')).toMatch(new RegExp(`0 already completed, 0 queued/running, 6 to run \\(store of ${url}\\)[\\s\\S]*running 6 run\\(s\\) with 2 worker process\\(es\\) reporting to ${url}`));
      expect(remote.table).toEqual(res.table);
      expect(readFileSync(remote.files!.csv, 'utf8')).toBe(readFileSync(res.files!.csv, 'utf8'));
      expect(served.listRuns({ experiment: 'table:repro-test' }).map((r) => r.status)).toEqual(Array(6).fill('completed'));
      // Called again, it skips what the server has.
      const twice: string[] = [];
      await runReproduce({ ...common, out: path.join(dir, 'server-out'), log: (l) => twice.push(l), slurm: { server: url, token: TOKEN } });
      expect(twice.join('\n')).toMatch(/6 already completed, 0 queued\/running, 0 to run/);
      expect(served.listRuns()).toHaveLength(6);
      // A dry run through the server plans against its runs and writes nothing.
      const dryLines: string[] = [];
      const dryRemote = await runReproduce({ ...common, dryRun: true, out: path.join(dir, 'server-dry'), log: (l) => dryLines.push(l), slurm: { server: url, token: TOKEN } });
      expect([dryRemote.files, dryRemote.plan, existsSync(path.join(dir, 'server-dry'))]).toEqual([null, { total: 6, completed: 6, pending: 0, todo: 0 }, false]);
      expect(dryRemote.table).toEqual(res.table);
    } finally {
      opened.mockRestore();
      await srv.app.close();
      await narrow.app.close();
      served.close();
    }

    // a probe file gone: the table stops before any run, naming it; --on-missing skip plans new runs (skipping is
    // part of a run's identity) and the preflight lets the skippable entry through
    const probe = readFileSync(path.join(root, 'protocols/vis-nir/2/probe.txt'), 'utf8').trim().split('\n')[0];
    rmSync(path.join(root, probe));
    const problems = await datasetProblems('synthetic-vis-nir', root); // the image is listed by other folds' training lists too
    expect(problems).toContain(`fold 2: missing ${path.join(root, 'protocols/vis-nir/2/probe.txt')}: ${path.join(root, probe)} (no such image)`);
    expect(problems.every((p) => p.endsWith(`${path.join(root, probe)} (no such image)`))).toBe(true);
    expect(await datasetProblems('synthetic-vis-nir', root, 'skip')).toEqual([]);
    const stopped = await runReproduce({ config, roots: { synth: root }, weights, store, out, log: () => {}, bar: false }).catch((e) => e);
    expect(stopped.name).toBe('PreflightError');
    expect(stopped.message).toContain(path.join(root, probe));
    const planned: string[] = [];
    await runReproduce({ config, roots: { synth: root }, weights, store, out, log: (l) => planned.push(l), bar: false, dryRun: true, onMissing: 'skip' });
    expect(planned.join('\n')).toMatch(/0 already completed, 0 queued\/running, 6 to run/);
    // A dry run writes nothing: no table files, no store where none was.
    const [dryStore, dryOut] = [path.join(dir, 'dry', 'runs.sqlite'), path.join(dir, 'dry-out')];
    const dry = await runReproduce({ config, roots: { synth: root }, weights, store: dryStore, out: dryOut, log: (l) => planned.push(l), bar: false, dryRun: true, onMissing: 'skip' });
    expect(dry.files).toBeNull();
    expect(planned.at(-1)).toBe('dry run: nothing was queued and no table file was written');
    expect([existsSync(dryOut), existsSync(path.dirname(dryStore))]).toEqual([false, false]);
    await expect(runReproduce({ config, roots: { synth: root }, weights, store, out, log: () => {}, onMissing: 'always' as never })).rejects.toThrow('--on-missing must be one of error, skip, received "always"');
  });
});

describe('missing cells', () => {
  it('names every grid entry without a completed run and why: failed, or left unfinished with the reason the wait ended', async () => {
    const dir = tmp();
    const config = path.join(dir, 'table.yaml');
    writeFileSync(config, stringify({
      name: 'missing-test',
      title: 'Missing cells test',
      datasets: { synth: { root: null } },
      base: { steps: 2 },
      rows: [{ id: 'n2', label: 'SSMB N=2', set: { method: 'ssmb', 'ssmb.numExperts': 2 } }],
      columns: [{ id: 'nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir', folds: [1, 2] }, { id: 'sketch', label: 'VIS-SKETCH', dataset: 'synth', protocol: 'synthetic-vis-sketch', folds: [1] }],
    }));
    const table = loadTableConfig(config).config;
    const grid = expandGrid(table, { roots: { synth: '/data/synth' }, weights: null, foldsOf: (p) => protocolFolds(getProtocol(p)) });
    const store = RunStore.open(path.join(dir, 'runs.sqlite'));
    const plan = planGrid(grid, store.listRuns());
    enqueuePlan(store, plan, 'table:missing-test');
    const [a, b, c] = plan.map((p) => p.run!.id);
    store.failRun(a, 'out of memory');
    store.claimRun('node7:1:x', 60_000, { runId: b });
    store.claimRun('w', 60_000, { runId: c });
    store.completeRun(c, 'w');
    expect(missingCells(planGrid(grid, store.listRuns()), 'no worker is left')).toEqual([
      { label: plan[0].entry.label, runId: a, status: 'failed', why: 'failed: out of memory' },
      { label: plan[1].entry.label, runId: b, status: 'running', why: 'still running: no worker is left' },
    ]);
    store.close();
  });
});
