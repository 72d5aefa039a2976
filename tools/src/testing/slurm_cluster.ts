// A private Slurm cluster on this machine for tests (the recipe of the lead's coord/slurm.md): munged,
// slurmctld and slurmd as root on 127.0.0.1, with their own key, config, ports (free ones), state and
// spool folders under a temp dir. With `nodes`, one slurmd per node, each in its own UTS namespace whose
// host name is the node's (`unshare -u`, `slurmd -N NAME`): the tasks it starts see that host name, so
// their workers' lease owners and buffer locks name another host than the test's. `SLURM_CONF` in `env` points the Slurm commands at it. `stop()`
// cancels its jobs, ends the daemons it started (by their pid files) and any job step they left, and
// removes the folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const TOOLS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'] as const;
const SEARCH = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin'];

function which(tool: string): string | null {
  for (const d of SEARCH) if (d && existsSync(path.join(d, tool))) return path.join(d, tool);
  return null;
}

/** Why a real cluster cannot be started here (missing binaries or not root), or null. */
export function slurmUnavailable(): string | null {
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length) return `Slurm binaries missing: ${missing.join(', ')} (install the Debian packages slurm-wlm and munge: scripts/system-packages.txt)`;
  if (process.getuid?.() !== 0) return 'the private Slurm cluster runs its daemons as root (SlurmUser=root); these tests are not running as root';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  dir: string;
  /** process.env plus SLURM_CONF. */
  env: NodeJS.ProcessEnv;
  conf: string;
  /** The daemons' logs (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SlurmNode {
  name: string;
  cpus: number;
}

export async function startSlurmCluster(opts: { cpus?: number; killWait?: number; nodes?: SlurmNode[] } = {}): Promise<SlurmCluster> {
  const reason = slurmUnavailable();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-slurm-'));
  chmodSync(dir, 0o711); // munged refuses a socket folder others cannot traverse
  for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(path.join(dir, d));
  chmodSync(path.join(dir, 'munge'), 0o711);
  const key = path.join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const sock = path.join(dir, 'munge', 'munge.sock');
  execFileSync(which('munged')!, [`--socket=${sock}`, `--key-file=${key}`, `--log-file=${path.join(dir, 'log', 'munged.log')}`, `--pid-file=${path.join(dir, 'munge', 'munged.pid')}`, `--seed-file=${path.join(dir, 'munge', 'seed')}`]);
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const host = hostname();
  const nodes = opts.nodes ?? null;
  for (const n of nodes ?? []) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(n.name)) throw new Error(`startSlurmCluster: node name must be lowercase letters, digits and -, received ${JSON.stringify(n.name)}`);
  }
  const ports = nodes ? await Promise.all(nodes.map(() => freePort())) : [];
  const nodeLines = nodes
    ? [
        ...nodes.map((n, i) => `NodeName=${n.name} NodeHostname=${n.name} NodeAddr=127.0.0.1 Port=${ports[i]} CPUs=${n.cpus} RealMemory=2000 State=UNKNOWN`),
        `PartitionName=debug Nodes=${nodes.map((n) => n.name).join(',')} Default=YES MaxTime=INFINITE State=UP`,
      ]
    : [
        `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${opts.cpus ?? 2} RealMemory=2000 State=UNKNOWN`,
        `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      ];
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=ssmbtest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${sock}`,
      'CredType=cred/munge',
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool', '%n')}`,
      `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, nodes ? 'slurmd-%n.pid' : 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'log', nodes ? 'slurmd-%n.log' : 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SchedulerType=sched/backfill',
      'SchedulerParameters=sched_interval=1',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      `KillWait=${opts.killWait ?? 10}`,
      'MinJobAge=2',
      ...nodeLines,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const cluster: SlurmCluster = {
    dir,
    env,
    conf,
    logs: () =>
      ['slurmctld.log', ...(nodes ? nodes.map((n) => `slurmd-${n.name}.log`) : ['slurmd.log']), 'munged.log']
        .map((f) => path.join(dir, 'log', f))
        .filter((f) => existsSync(f))
        .map((f) => `--- ${path.basename(f)}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`)
        .join('\n'),
    stop: () => stopCluster(dir, env, sock, nodes ? nodes.map((n) => `slurmd-${n.name}.pid`) : ['slurmd.pid']),
  };
  try {
    execFileSync(which('slurmctld')!, ['-c'], { env });
    if (!nodes) execFileSync(which('slurmd')!, [], { env });
    // Each node's slurmd under its own host name: the namespace outlives the shell (slurmd daemonizes in it).
    for (const n of nodes ?? []) execFileSync('unshare', ['-u', 'sh', '-c', 'hostname "$1" && exec "$2" -N "$1"', 'sh', n.name, which('slurmd')!], { env });
    const t0 = Date.now();
    for (;;) {
      const r = spawnSync(which('sinfo')!, ['-h', '-o', '%T'], { env, encoding: 'utf8' });
      if (r.status === 0 && r.stdout.trim().split('\n').every((l) => l.trim() === 'idle')) break;
      if (Date.now() - t0 > 30_000) throw new Error(`the test Slurm cluster did not become idle within 30 s (sinfo: ${r.stdout.trim() || r.stderr.trim()})\n${cluster.logs()}`);
      await sleep(200);
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Pids of processes whose environment carries this cluster's SLURM_CONF (job steps our slurmd started). */
function processesOf(conf: string): number[] {
  const mark = Buffer.from(`SLURM_CONF=${conf}\0`);
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`).includes(mark)) out.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function killPidFile(file: string): void {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

async function stopCluster(dir: string, env: NodeJS.ProcessEnv, sock: string, slurmdPids: string[]): Promise<void> {
  const conf = env.SLURM_CONF!;
  spawnSync(which('scancel')!, ['--user=root'], { env });
  for (let i = 0; i < 50; i++) {
    const q = spawnSync(which('squeue')!, ['-h'], { env, encoding: 'utf8' });
    if (q.status !== 0 || q.stdout.trim() === '') break;
    await sleep(200);
  }
  for (const f of slurmdPids) killPidFile(path.join(dir, f));
  killPidFile(path.join(dir, 'slurmctld.pid'));
  await sleep(500);
  // Job steps outlive slurmd: end the ones this cluster started (marked by its SLURM_CONF), by pid.
  for (let i = 0; i < 20; i++) {
    const left = processesOf(conf);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, i < 10 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(200);
  }
  spawnSync(which('munged')!, ['-s', `--socket=${sock}`]);
  killPidFile(path.join(dir, 'munge', 'munged.pid'));
  rmSync(dir, { recursive: true, force: true });
}
