/**
 * A real one-node Slurm cluster from Debian's packages (munge, slurmctld, slurmd) for the tests: config, state,
 * spool, logs and the munge key all live in a temp directory, on free ports, so nothing of the machine's own
 * Slurm (if any) is touched. Needs root (slurmd runs jobs as their user; munged runs as the munge user).
 * `startCluster` throws with the daemons' own log lines if the cluster does not come up.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface Cluster {
  dir: string;
  /** environment for sbatch/scontrol/…: SLURM_CONF points at the cluster's config */
  env: NodeJS.ProcessEnv;
  /** the daemons' log files, last lines of each, for failure messages */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

const BINARIES = ["mungekey", "munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "runuser"];
const which = (b: string) => ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map((d) => path.join(d, b)).find((p) => fs.existsSync(p));

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function tail(file: string, n: number): string {
  if (!fs.existsSync(file)) return `(${file}: not written)`;
  const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  return lines.slice(-n).join("\n");
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error?.message}`);
  return r.stdout;
}

export async function startCluster(): Promise<Cluster> {
  const missing = BINARIES.filter((b) => !which(b));
  if (missing.length)
    throw new Error(`Slurm is not installed here (missing ${missing.join(", ")}): .ci/run installs it, or apt-get install slurmctld slurmd slurm-client munge`);
  if (process.getuid?.() !== 0) throw new Error(`a test Slurm cluster needs root (slurmd, munged as the munge user); running as uid ${process.getuid?.()}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scd-slurm-"));
  fs.chmodSync(dir, 0o755);
  const munge = path.join(dir, "munge"), log = path.join(dir, "log");
  for (const d of [munge, log, path.join(dir, "state"), path.join(dir, "spool")]) fs.mkdirSync(d, { mode: 0o755 });
  const key = path.join(munge, "munge.key"), socket = path.join(munge, "munge.socket");
  run(which("mungekey")!, ["-c", "-k", key]);
  run("chown", ["-R", "munge:munge", munge]);
  const logs = { munged: path.join(munge, "munged.log"), slurmctld: path.join(log, "slurmctld.log"), slurmd: path.join(log, "slurmd.log") };
  const pids = { munged: path.join(munge, "munged.pid"), slurmctld: path.join(dir, "slurmctld.pid"), slurmd: path.join(dir, "slurmd.pid") };
  const host = os.hostname().split(".")[0];
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const memMb = Math.floor((0.8 * os.totalmem()) / 2 ** 20);
  const conf = path.join(dir, "slurm.conf");
  fs.writeFileSync(conf, [
    `ClusterName=scdtest`, `SlurmctldHost=${host}(127.0.0.1)`, `SlurmctldPort=${ctldPort}`, `SlurmdPort=${dPort}`,
    `SlurmUser=root`, `SlurmdUser=root`, `AuthType=auth/munge`, `CredType=cred/munge`, `AuthInfo=socket=${socket}`,
    `StateSaveLocation=${dir}/state`, `SlurmdSpoolDir=${dir}/spool`, `SlurmctldPidFile=${pids.slurmctld}`, `SlurmdPidFile=${pids.slurmd}`,
    `SlurmctldLogFile=${logs.slurmctld}`, `SlurmdLogFile=${logs.slurmd}`,
    // no cgroups or systemd here: track processes by parentage, no task affinity
    `ProctrackType=proctrack/linuxproc`, `TaskPlugin=task/none`, `SchedulerType=sched/backfill`, `SelectType=select/cons_tres`, `SelectTypeParameters=CR_Core`,
    `ReturnToService=2`, `MpiDefault=none`, `MailProg=/bin/true`, `JobAcctGatherType=jobacct_gather/none`, `AccountingStorageType=accounting_storage/none`,
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${Math.min(2, os.availableParallelism())} RealMemory=${memMb} State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`, "",
  ].join("\n"));
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const daemon = (name: string, cmd: string, args: string[]) => {
    const out = fs.openSync(path.join(log, `${name}.stderr`), "w");
    const c = spawn(cmd, args, { env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    children.push(c);
    return c;
  };
  const logText = (n = 20) =>
    Object.entries(logs).map(([k, f]) => `--- ${k} (${f})\n${tail(f, n)}\n--- ${k} stderr\n${tail(path.join(log, `${k}.stderr`), 5)}`).join("\n");
  const stop = async () => {
    // by pid file (the daemons' own pids: munged runs under runuser), then make sure every child has exited
    for (const name of ["slurmd", "slurmctld", "munged"] as const) {
      const pid = fs.existsSync(pids[name]) ? Number(fs.readFileSync(pids[name], "utf8").trim()) : NaN;
      if (pid > 0) try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
    }
    await Promise.all(children.map((c) => c.exitCode !== null || c.signalCode !== null ? null : new Promise<void>((r) => {
      const t = setTimeout(() => (c.kill("SIGKILL"), r()), 10_000);
      c.once("exit", () => (clearTimeout(t), r()));
    })));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const cluster: Cluster = { dir, env, logs: logText, stop };
  try {
    daemon("munged", which("runuser")!, ["-u", "munge", "--", which("munged")!, "-F", `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${pids.munged}`, `--log-file=${logs.munged}`, `--seed-file=${munge}/munged.seed`]);
    for (let i = 0; i < 50 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    if (!fs.existsSync(socket)) throw new Error(`munged did not create its socket ${socket}`);
    daemon("slurmctld", which("slurmctld")!, ["-D"]);
    daemon("slurmd", which("slurmd")!, ["-D"]);
    const t0 = Date.now();
    for (;;) {
      const r = spawnSync(which("sinfo")!, ["-h", "-o", "%T"], { encoding: "utf8", env, timeout: 10_000 });
      if (r.status === 0 && /^idle/m.test(r.stdout)) break;
      const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new Error(`${dead.spawnargs.slice(0, 4).join(" ")} exited (${dead.exitCode ?? dead.signalCode})`);
      if (Date.now() - t0 > 60_000) throw new Error(`the node is not idle after 60 s (sinfo: ${(r.stdout || r.stderr).trim() || "no answer"})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return cluster;
  } catch (e) {
    const msg = `the test Slurm cluster did not start: ${(e as Error).message}\n${logText()}`;
    await stop();
    throw new Error(msg);
  }
}

/** Wait until a job leaves the queue's active states; returns its final JobState (COMPLETED, FAILED, …). */
export async function waitJob(c: Cluster, jobId: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync(which("scontrol")!, ["show", "job", "-o", jobId], { encoding: "utf8", env: c.env, timeout: 10_000 });
    const states = [...r.stdout.matchAll(/JobState=(\S+)/g)].map((m) => m[1]);
    const reason = /Reason=(\S+)/.exec(r.stdout)?.[1];
    if (states.length && states.every((s) => !["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "SUSPENDED"].includes(s))) return states.join(",");
    if (reason === "DependencyNeverSatisfied") return "DEPENDENCY_NEVER_SATISFIED";
    if (Date.now() - t0 > timeoutMs) return `TIMEOUT_WAITING (last: ${r.stdout.trim() || r.stderr.trim()})`;
    await new Promise((res) => setTimeout(res, 500));
  }
}
