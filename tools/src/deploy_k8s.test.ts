// The Kubernetes Job template runs the same worker command as a Slurm array task: its command parses
// as `ssmb worker` with options the CLI has, the token comes from a Secret (never a literal), and the
// pod's Job name and completion index are what the worker records on its runs.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { detectExecutor, executorLabel } from '@ssmb/trainer';
import { buildProgram } from './cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('deploy/k8s/worker-job.yaml', () => {
  const job = parse(readFileSync(path.join(ROOT, 'deploy', 'k8s', 'worker-job.yaml'), 'utf8'));
  const container = job.spec.template.spec.containers[0];
  const env = Object.fromEntries((container.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e]));

  it('is an Indexed Job whose pods run `ssmb worker --server ... --until-empty`, with options the CLI knows', async () => {
    expect(job).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', spec: { completionMode: 'Indexed' } });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const [bin, sub, ...args] = container.command as string[];
    expect([bin, sub]).toEqual(['tools/bin/ssmb', 'worker']);
    expect(args).toContain('--until-empty');
    const program = await buildProgram();
    const worker = program.commands.find((c) => c.name() === 'worker')!;
    const known = worker.options.map((o) => o.long);
    for (const a of args.filter((x) => x.startsWith('--'))) expect(known, a).toContain(a);
    // $(SSMB_SERVER) is expanded by Kubernetes from the env list.
    expect(args[args.indexOf('--server') + 1]).toBe('$(SSMB_SERVER)');
    expect(env.SSMB_SERVER.value).toMatch(/^http:\/\//);
  });

  it('takes the token from a Secret and records the Job name and index on the runs it claims', () => {
    expect(env.SSMB_TOKEN.value).toBeUndefined();
    expect(env.SSMB_TOKEN.valueFrom).toMatchObject({ secretKeyRef: { key: 'token' } });
    expect(env.ORT_DISABLE_TELEMETRY.value).toBe('1'); // nothing leaves the pod unasked
    expect(env.SSMB_K8S_JOB.valueFrom).toMatchObject({ fieldRef: { fieldPath: "metadata.labels['job-name']" } });
    const ex = detectExecutor({ SSMB_K8S_JOB: 'ssmb-workers', JOB_COMPLETION_INDEX: '2', KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(ex).toEqual({ launcher: 'k8s', job: 'ssmb-workers', task: '2' });
    expect(executorLabel({ launcher: ex.launcher, launcherJob: ex.job, launcherTask: ex.task })).toBe('k8s ssmb-workers/2');
    expect(detectExecutor({ SLURM_JOB_ID: '12', SLURM_ARRAY_JOB_ID: '10', SLURM_ARRAY_TASK_ID: '2' })).toEqual({ launcher: 'slurm', job: '10', task: '2' });
    expect(detectExecutor({})).toEqual({ launcher: 'local', job: null, task: null });
  });
});
