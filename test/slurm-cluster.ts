// A one-node Slurm cluster for the job-array tests: munge and Slurm (Debian's munge and slurm-wlm)
// started by hand as root in a temporary folder, no systemd. Only the daemons started here are
// stopped here. Where the cluster cannot be started, `skipReason` says why and the tests skip.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { availableParallelism, hostname, tmpdir } from "node:os";
import { join } from "node:path";

export interface SlurmCluster {
  /** Environment for sbatch/squeue/sinfo: SLURM_CONF pointing at this cluster's config. */
  env: NodeJS.ProcessEnv;
  dir: string;
  stop(): void;
}

function which(cmd: string): string | undefined {
  for (const d of ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]) if (existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

/** Why a cluster can't be started here, or undefined when it can. */
export function slurmSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "the Slurm tests start munged, slurmctld and slurmd by hand, which needs root";
  for (const c of ["munged", "slurmctld", "slurmd", "sbatch", "sinfo"]) {
    if (!which(c)) return `${c} is not installed (apt-get install slurm-wlm munge; .ci/run does)`;
  }
  return undefined;
}

function waitFor(what: string, ok: () => boolean, ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return;
    spawnSync("sleep", ["0.2"]);
  }
  throw new Error(`Slurm test cluster: ${what} did not come up within ${ms} ms`);
}

export function startSlurm(): SlurmCluster {
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-slurm-"));
  for (const d of ["state", "spool", "log", "run"]) mkdirSync(join(dir, d));
  const key = join(dir, "munge.key");
  writeFileSync(key, Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7919 + Date.now()) & 255)));
  chmodSync(key, 0o400);
  const sock = join(dir, "munge.sock");
  const pids: string[] = [];
  const stop = () => {
    for (const p of pids) {
      try {
        const pid = Number(readFileSync(p, "utf8").trim());
        if (pid) process.kill(pid, "SIGTERM");
      } catch { /* already gone */ }
    }
    spawnSync("sleep", ["0.5"]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(which("munged")!, [`--key-file=${key}`, `--socket=${sock}`, `--pid-file=${dir}/munged.pid`,
      `--log-file=${dir}/munged.log`, `--seed-file=${dir}/munge.seed`, "-f"], { stdio: "pipe" });
    pids.push(join(dir, "munged.pid"));
    const host = hostname().split(".")[0];
    // ports of our own, so that a cluster already running on this machine is not disturbed
    const base = 20000 + (process.pid % 20000);
    const conf = join(dir, "slurm.conf");
    writeFileSync(conf, [
      "ClusterName=arrowsmith-test", `SlurmctldHost=${host}`, "SlurmUser=root", "SlurmdUser=root",
      "AuthType=auth/munge", `AuthInfo=socket=${sock}`, "CredType=cred/munge",
      "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
      "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none", "MpiDefault=none", "ReturnToService=2",
      `StateSaveLocation=${dir}/state`, `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/run/slurmctld.pid`, `SlurmdPidFile=${dir}/run/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`, `SlurmdLogFile=${dir}/log/slurmd.log`,
      `SlurmctldPort=${base}`, `SlurmdPort=${base + 1}`,
      `NodeName=${host} CPUs=${availableParallelism()} State=UNKNOWN`,
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`, "",
    ].join("\n"));
    const env = { ...process.env, SLURM_CONF: conf };
    execFileSync(which("slurmctld")!, ["-f", conf], { env, stdio: "pipe" });
    pids.push(join(dir, "run/slurmctld.pid"));
    execFileSync(which("slurmd")!, ["-f", conf], { env, stdio: "pipe" });
    pids.push(join(dir, "run/slurmd.pid"));
    waitFor("the node", () => {
      const r = spawnSync("sinfo", ["-h", "-o", "%t"], { env, encoding: "utf8" });
      return r.status === 0 && /idle/.test(r.stdout);
    }, 20_000);
    return { env, dir, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** Submits a script and waits until the job (and its array tasks) have left the queue. */
export function waitForJobs(env: NodeJS.ProcessEnv, ids: string[], ms = 120_000): void {
  waitFor(`jobs ${ids.join(",")}`, () => {
    const r = spawnSync("squeue", ["-h", "-j", ids.join(","), "-o", "%i"], { env, encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() === "";
  }, ms);
}
