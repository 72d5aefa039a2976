// What a worker runs inside, from the environment its launcher gives it: a Slurm array task
// (SLURM_ARRAY_JOB_ID / SLURM_ARRAY_TASK_ID, or SLURM_JOB_ID for a plain job), a Kubernetes Indexed Job
// pod (SSMB_K8S_JOB from the Job's name via the downward API, JOB_COMPLETION_INDEX), or a local process.
// The worker records it on every run it claims: `ssmb runs` and the dashboard show it, and cancelling a
// run scancels its Slurm task.
import type { ExecutorInfo } from '../store/types.ts';

export function detectExecutor(env: NodeJS.ProcessEnv = process.env): ExecutorInfo {
  if (env.SLURM_JOB_ID) {
    return { launcher: 'slurm', job: env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID, task: env.SLURM_ARRAY_TASK_ID ?? null };
  }
  if (env.SSMB_K8S_JOB || (env.KUBERNETES_SERVICE_HOST && env.JOB_COMPLETION_INDEX !== undefined)) {
    return { launcher: 'k8s', job: env.SSMB_K8S_JOB ?? null, task: env.JOB_COMPLETION_INDEX ?? null };
  }
  return { launcher: 'local', job: null, task: null };
}

/** "slurm 1234_5", "k8s ssmb-worker/3", "local" (for lists and logs). */
export function executorLabel(r: { launcher: string | null; launcherJob: string | null; launcherTask: string | null }): string {
  if (!r.launcher) return '';
  if (r.launcher === 'slurm' && r.launcherJob) return `slurm ${r.launcherJob}${r.launcherTask !== null ? `_${r.launcherTask}` : ''}`;
  if (r.launcherJob) return `${r.launcher} ${r.launcherJob}${r.launcherTask !== null ? `/${r.launcherTask}` : ''}`;
  return r.launcher;
}
