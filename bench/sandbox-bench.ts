/**
 * npm run bench:sandbox — the sandbox's speed and memory, under runc and under gVisor (runsc, where the
 * engine lists it) in the same run, their samples taken in turn, against baselines measured alike:
 *  1. a trivial cell in an existing session vs `docker exec <container> python3 -c ...`
 *  2. the first execution in a new session (pool warm) vs a one-shot `docker run --rm <image> python3 -c "import ..."`
 *  3. a pandas groupby on a 1,000,000-row frame (1,000 keys) built once in the session
 *  4. resident memory of an idle warm session, and how many fit in 8 GiB.
 * Then runsc/runc ratios against the targets, and 5. the Kubernetes backend over the API stand-in
 * against Docker (kubernetes-column.ts; BENCH_KUBERNETES=0 leaves it out). RUNS (default 30) sets the
 * sample count of 1-3 and 5 (the one-shot baseline, the slowest, takes a third of them). BENCH_RUNTIMES
 * (e.g. "runc,runsc,runsc-systrap") compares several registered gVisor runtimes (platforms, flags) with runc.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import Docker from "dockerode";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { createSandboxManager } from "../src/sandbox/docker/create-sandbox-manager.js";
import { isGvisor } from "../src/sandbox/docker/container-spec.js";
import { engineRuntimes, GVISOR_RUNTIME } from "../src/sandbox/docker/runtime-detection.js";
import { seccompProfile } from "../src/sandbox/docker/seccomp-profile.js";
import type { SandboxManager } from "../src/sandbox/sandbox-manager.js";
import type { SandboxSession } from "../src/sandbox/sandbox-session.js";
import { kubernetesColumn } from "./kubernetes-column.js";
import { median, percentile, row, timeInterleaved } from "./stats.js";

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 30);
const ONE_SHOT_RUNS = Math.max(3, Math.ceil(RUNS / 3));
const IMPORTS = "import pandas, numpy, matplotlib";
const FRAME = [
  "import numpy as np, pandas as pd",
  "rng = np.random.default_rng(0)",
  "df = pd.DataFrame({'k': rng.integers(0, 1000, 1_000_000), 'v': rng.random(1_000_000)})",
].join("\n");
const GROUPBY = "g = df.groupby('k')['v'].agg(['mean', 'sum', 'count'])";

/** One runtime under test: its own manager, namespace and warm pool. */
interface Subject {
  runtime: string;
  manager: SandboxManager;
  session?: SandboxSession;
  opened: string[];
}

interface Measures {
  runtime: string;
  warm: number[];
  dockerExec: number[];
  first: number[];
  oneShot: number[];
  groupby: number[];
  idleBytes: number;
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

async function idleMemoryBytes(docker: Docker, containerId: string): Promise<number> {
  const stats = (await docker.getContainer(containerId).stats({ stream: false })) as unknown as {
    memory_stats: { usage: number; stats: Record<string, number> };
  };
  const { usage, stats: detail } = stats.memory_stats;
  // As `docker stats` reports it: usage less the page cache that can be dropped.
  return usage - (detail.total_inactive_file ?? detail.inactive_file ?? 0);
}

function subject(runtime: string): Subject {
  const config = loadConfig({
    ...process.env,
    METRICS_PORT: process.env.METRICS_PORT ?? "0", // in-process workers: no endpoint to fight over
    SANDBOX_RUNTIME: runtime,
    SANDBOX_NAMESPACE: `bench-${runtime}-${randomBytes(3).toString("hex")}`,
    SANDBOX_POOL_SIZE: "2",
  });
  return { runtime, manager: createSandboxManager(config, createLogger(process.env.LOG_LEVEL ?? "warn")), opened: [] };
}

async function ok(session: SandboxSession, code: string): Promise<void> {
  const result = await session.execute(code);
  if (result.status !== "ok") throw new Error(`execution failed: ${JSON.stringify(result).slice(0, 2000)}`);
}

async function measure(subjects: Subject[], image: string, docker: Docker): Promise<Measures[]> {
  const label = (name: string, s: Subject) => `${name} [${s.runtime}]`;
  await Promise.all(subjects.map((s) => s.manager.warmUp()));
  for (const s of subjects) {
    s.session = await s.manager.session("bench-warm");
    await ok(s.session, "pass");
  }
  const session = (s: Subject): SandboxSession => s.session as SandboxSession;

  // 1. Warm execution in an existing session.
  const warm = await timeInterleaved(RUNS, subjects, (s) => session(s).execute("x = 1"));
  const dockerExec = await timeInterleaved(RUNS, subjects, (s) => run("docker", ["exec", session(s).sandboxId, "python3", "-c", "x = 1"]));
  console.log("1. trivial cell in an existing session");
  subjects.forEach((s, i) => console.log(row(label("   codebot: execute('x = 1')", s), warm[i] ?? [])));
  subjects.forEach((s, i) => console.log(row(label("   baseline: docker exec … python3 -c", s), dockerExec[i] ?? [])));

  // 2. First execution in a new session, with the pool warm before each run.
  const first = await timeInterleaved(
    RUNS,
    subjects,
    async (s) => {
      const id = `bench-new-${s.opened.length}`;
      s.opened.push(id);
      const result = await s.manager.execute(id, `${IMPORTS}\nx = 1`);
      if (result.status !== "ok") throw new Error(`first execution failed: ${JSON.stringify(result).slice(0, 2000)}`);
    },
    async (s) => {
      await s.manager.kill(s.opened[s.opened.length - 1] ?? "");
      await s.manager.warmUp();
    },
  );
  const oneShot = await timeInterleaved(ONE_SHOT_RUNS, subjects, (s) =>
    // With codebot's seccomp profile, as its sandboxes have it: a gVisor runtime registered with
    // --oci-seccomp can't start threads under the engine's default profile (gVisor answers its clone3 refusal with EPERM).
    run("docker", ["run", "--rm", "--runtime", s.runtime, "--network", "none", "--security-opt", `seccomp=${profileFile(s.runtime)}`, "--entrypoint", "python3", image, "-c", IMPORTS]),
  );
  console.log("2. first execution in a new session (pool warm): imports + a trivial cell");
  subjects.forEach((s, i) => console.log(row(label("   codebot: new session, execute(imports; x = 1)", s), first[i] ?? [])));
  subjects.forEach((s, i) => console.log(row(label("   baseline: docker run --rm … python3 -c 'import …'", s), oneShot[i] ?? [])));

  // 3. pandas groupby, the frame built once per session.
  for (const s of subjects) {
    await ok(session(s), FRAME);
    await ok(session(s), GROUPBY);
  }
  const groupby = await timeInterleaved(RUNS, subjects, (s) => ok(session(s), GROUPBY));
  console.log("3. groupby of 1,000,000 rows on 1,000 keys: mean, sum, count");
  subjects.forEach((s, i) => console.log(row(label("   codebot: execute(df.groupby(…).agg(…))", s), groupby[i] ?? [])));

  // 4. Memory of an idle warm session.
  const idle: number[] = [];
  for (const s of subjects) {
    const fresh = await s.manager.session("bench-idle");
    await ok(fresh, "pass");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await idleMemoryBytes(docker, fresh.sandboxId));
    idle.push(median(samples));
  }
  console.log("4. idle warm session (pandas, numpy, matplotlib imported)");
  subjects.forEach((s, i) => console.log(`   resident memory median [${s.runtime}] ${mib(idle[i] ?? Number.NaN)}`));
  console.log("");

  return subjects.map((s, i) => ({
    runtime: s.runtime,
    warm: warm[i] ?? [],
    dockerExec: dockerExec[i] ?? [],
    first: first[i] ?? [],
    oneShot: oneShot[i] ?? [],
    groupby: groupby[i] ?? [],
    idleBytes: idle[i] ?? Number.NaN,
  }));
}

/** codebot's seccomp profile for the runtime, in a file for `docker run --security-opt`. */
function profileFile(runtime: string): string {
  const file = join(tmpdir(), `codebot-bench-seccomp-${isGvisor(runtime) ? "gvisor" : "runc"}.json`);
  writeFileSync(file, JSON.stringify(seccompProfile({ gvisor: isGvisor(runtime) })));
  return file;
}

const ms = (samples: number[]): string => `${median(samples).toFixed(2)} ms (p95 ${percentile(samples, 95).toFixed(2)})`;
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const perEightGiB = (bytes: number): number => Math.floor((8 * 1024 ** 3) / bytes);

function report(runc: Measures, gvisor: Measures[]): void {
  const warmRatio = median(runc.warm) / median(runc.dockerExec);
  const firstRatio = median(runc.first) / median(runc.oneShot);
  console.log("Summary");
  console.log(`runc   warm ${ms(runc.warm)}, ${warmRatio.toFixed(3)}x docker exec   target <= 10 ms and <= 0.2x: ${verdict(median(runc.warm) <= 10 && warmRatio <= 0.2)}`);
  console.log(`runc   first execution ${ms(runc.first)}, ${firstRatio.toFixed(3)}x docker run   target <= 0.1x: ${verdict(firstRatio <= 0.1)}`);
  console.log(`runc   groupby ${ms(runc.groupby)}`);
  console.log(`runc   idle ${mib(runc.idleBytes)}: ${perEightGiB(runc.idleBytes)} sessions in 8 GiB`);
  if (!gvisor.length) {
    console.log(`\nThe engine lists no ${GVISOR_RUNTIME}: nothing measured under gVisor (the README says how to enable it).`);
    return;
  }
  const ratio = (a: number[], b: number[]): string => `${(median(a) / median(b)).toFixed(2)}x runc`;
  for (const runsc of gvisor) {
    const name = runsc.runtime.padEnd(6);
    const groupbyRatio = median(runsc.groupby) / median(runc.groupby);
    console.log(`${name} warm ${ms(runsc.warm)}, ${ratio(runsc.warm, runc.warm)}   target <= 3 ms: ${verdict(median(runsc.warm) <= 3)}`);
    console.log(`${name} first execution ${ms(runsc.first)}, ${ratio(runsc.first, runc.first)}   target <= 20 ms: ${verdict(median(runsc.first) <= 20)}`);
    console.log(`${name} groupby ${ms(runsc.groupby)}, ${groupbyRatio.toFixed(2)}x runc   target <= 1.3x runc: ${verdict(groupbyRatio <= 1.3)}`);
    console.log(`${name} docker exec ${ms(runsc.dockerExec)}, ${ratio(runsc.dockerExec, runc.dockerExec)}`);
    console.log(`${name} docker run --rm ${ms(runsc.oneShot)}, ${ratio(runsc.oneShot, runc.oneShot)}`);
    console.log(`${name} idle ${mib(runsc.idleBytes)}, ${(runsc.idleBytes / runc.idleBytes).toFixed(2)}x runc: ${perEightGiB(runsc.idleBytes)} sessions in 8 GiB`);
  }
}

async function main(): Promise<void> {
  const docker = new Docker();
  const engine = await engineRuntimes(docker);
  const config = loadConfig(process.env);
  const asked = process.env.BENCH_RUNTIMES?.split(",").map((name) => name.trim()).filter((name) => name && name !== "runc") ?? [GVISOR_RUNTIME];
  for (const name of asked.filter((name) => !engine.available.includes(name))) console.log(`(runtime ${name} is not registered with the engine: skipped)`);
  const runtimes = ["runc", ...asked.filter((name) => engine.available.includes(name))];
  console.log(
    `codebot sandbox benchmark: ${RUNS} runs each (${ONE_SHOT_RUNS} one-shot), image ${config.SANDBOX_IMAGE}, ` +
      `${config.SANDBOX_CPUS} CPU and ${config.SANDBOX_MEMORY_MB} MiB per session; runtimes ${runtimes.join(" and ")}, samples in turn\n`,
  );
  const subjects = runtimes.map(subject);
  try {
    const [runc, ...gvisor] = await measure(subjects, config.SANDBOX_IMAGE, docker);
    if (runc) report(runc, gvisor);
  } finally {
    for (const s of subjects) {
      await s.manager.close();
      await s.manager.destroyAll();
    }
  }
  if (process.env.BENCH_KUBERNETES !== "0") {
    console.log("");
    await kubernetesColumn(runtimes.filter((name) => name === "runc" || name === GVISOR_RUNTIME), RUNS); // the stand-in maps RuntimeClass gvisor to runsc
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
