/**
 * npm run bench:workspace — durable thread workspaces, under the engine's default runtime for
 * sandboxes (SANDBOX_RUNTIME, auto: gVisor where the engine lists it), against baselines measured
 * in the same run, their samples taken in turn:
 *  1. resume of a slept session holding 50 MB of files and a 1,000,000-row DataFrame, up to its
 *     first output, vs a fresh session given the same CSV and reading it again (target: ≤ 1 s and
 *     ≤ the baseline);
 *  2. the cost a checkpoint adds to an execution that writes a 10 MB file: the same execution
 *     with and without durable workspaces (target: ≤ 50 ms median);
 *  3. what 100 sleeping sessions hold: containers and memory (target: 0 and 0 MiB), and disk;
 *  4. this process's (the worker's) peak resident memory while 10 threads each save 200 MB at once,
 *     against its idle size (target: under 300 MB above idle);
 *  5. the save of 10,000 small files (and of one changed among them), against the engine's
 *     archive read of the same folder.
 * RUNS (default 20) sets the sample count of 1 and 2; SLEEPERS (default 100) the sessions of 3;
 * SAVERS (10) and MEMORY_ROUNDS (5) the threads and rounds of 4; SMALL_RUNS (10) the runs of 5;
 * PARTS (1,2,3,4,5) which parts run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { loadConfig } from "../src/config.js";
import { LABEL_NAMESPACE } from "../src/sandbox/docker/container-spec.js";
import { createLogger } from "../src/log.js";
import type { ExecutionResult } from "../src/core/execution-result.js";
import { createSandboxes } from "../src/app/sandboxes.js";
import { median, percentile, row, runBenchmark } from "./stats.js";
import { concurrentSaves, manySmallFiles } from "./workspace-load.js";

const RUNS = Number(process.env.RUNS ?? 20);
const SLEEPERS = Number(process.env.SLEEPERS ?? 100);
const SAVERS = Number(process.env.SAVERS ?? 10);
const MEMORY_ROUNDS = Number(process.env.MEMORY_ROUNDS ?? 5);
const SMALL_RUNS = Number(process.env.SMALL_RUNS ?? 10);
const PARTS = new Set((process.env.PARTS ?? "1,2,3,4,5").split(",").map((part) => part.trim()));
const MIB = 1024 * 1024;

const MAKE_DATA = [
  "import numpy as np, pandas as pd",
  "rng = np.random.default_rng(0)",
  "n = 1_000_000",
  "df = pd.DataFrame({'id': np.arange(n), 'amount': rng.random(n) * 1000, 'ratio': rng.random(n), 'region': pd.Categorical(rng.choice(['north', 'south', 'east', 'west'], n))})",
  "df.to_csv('/mnt/data/data.csv', index=False)",
  "import os",
  "pad = 50 * 1024 * 1024 - os.path.getsize('/mnt/data/data.csv')",
  "open('/mnt/data/padding.bin', 'wb').write(os.urandom(max(pad, 0)))",
  "print(len(df), sum(os.path.getsize('/mnt/data/' + f) for f in os.listdir('/mnt/data')))",
].join("\n");
const FIRST_OUTPUT = "print(len(df), round(float(df.amount.sum())))";
const READ_AGAIN = "import pandas as pd\ndf = pd.read_csv('/mnt/data/data.csv')\nprint(len(df), round(float(df.amount.sum())))";

function check(result: ExecutionResult, what: string): ExecutionResult {
  if (result.status !== "ok") throw new Error(`${what} failed: ${JSON.stringify(result).slice(0, 1500)}`);
  return result;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function containerMemory(docker: Docker, ids: string[]): Promise<number> {
  let total = 0;
  for (const id of ids) {
    const stats = (await docker.getContainer(id).stats({ stream: false })) as unknown as { memory_stats: { usage?: number; stats?: Record<string, number> } };
    total += (stats.memory_stats.usage ?? 0) - (stats.memory_stats.stats?.inactive_file ?? 0);
  }
  return total;
}

async function main(): Promise<void> {
  const storeDir = mkdtempSync(join(tmpdir(), "codebot-bench-workspaces-"));
  const namespace = `bench-ws-${randomBytes(3).toString("hex")}`;
  const env = { ...process.env, SANDBOX_NAMESPACE: namespace, SANDBOX_POOL_SIZE: "2", SANDBOX_MAX_SESSIONS: "200", SANDBOX_DISK_MB: "512", SANDBOX_MEMORY_MB: "2048" };
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const durable = createSandboxes(loadConfig({ ...env, WORKSPACE_STORE: storeDir }), log);
  const plain = createSandboxes(loadConfig({ ...env, WORKSPACE_STORE: "none", SANDBOX_NAMESPACE: `${namespace}-p` }), log);
  const docker = new Docker();
  const sandboxes = durable.durable!;
  try {
    await Promise.all([durable.manager.warmUp(), plain.manager.warmUp()]);
    console.log(`durable workspaces benchmark: ${RUNS} runs, store ${sandboxes.workspaces.store.description}`);

    if (PARTS.has("1")) await resumeVsFresh(durable, plain);
    if (PARTS.has("2")) await checkpointCost(sandboxes, plain);
    if (PARTS.has("3")) await sleepers(sandboxes, storeDir, namespace, docker);
    if (PARTS.has("4")) await concurrentSaves(sandboxes, SAVERS, MEMORY_ROUNDS);
    if (PARTS.has("5")) await manySmallFiles(sandboxes, durable.manager, SMALL_RUNS);
  } finally {
    await Promise.all([durable.manager.destroyAll(), plain.manager.destroyAll()]);
    rmSync(storeDir, { recursive: true, force: true });
  }
}

type Runtime = ReturnType<typeof createSandboxes>;

/** 1. Resume vs reading the CSV again in a fresh session. */
async function resumeVsFresh(durable: Runtime, plain: Runtime): Promise<void> {
  const sandboxes = durable.durable!;
  const made = check(await sandboxes.execute("bench-resume", MAKE_DATA, { timeoutMs: 120_000 }), "making the data");
  console.log(`   the session holds: ${made.stdout.trim()} (rows, bytes of files)`);
  const csv = await sandboxes.download("bench-resume", "data.csv", 100 * MIB);
  const resume: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (!(await sandboxes.hibernate("bench-resume"))) throw new Error("the session did not go to sleep");
    await durable.manager.warmUp();
    let started = performance.now();
    const back = check(await sandboxes.execute("bench-resume", FIRST_OUTPUT), "the first output after resuming");
    resume.push(performance.now() - started);
    if (back.stateLost || back.freshSession || back.notes.length) throw new Error(`the resume lost something: ${back.notes.join(" ")}`);
    const fresh = `bench-fresh-${i}`;
    await plain.manager.warmUp();
    started = performance.now();
    await plain.sandboxes.upload(fresh, [{ name: "data.csv", data: csv }]);
    check(await plain.sandboxes.execute(fresh, READ_AGAIN, { timeoutMs: 120_000 }), "reading the CSV again");
    baseline.push(performance.now() - started);
    await plain.manager.kill(fresh);
  }
  console.log("1. back to a thread: 50 MB of files and a 1,000,000-row DataFrame, up to the first output");
  console.log(row("   codebot: resume the slept session (files + variables)", resume));
  console.log(row("   baseline: fresh session, the CSV put in and read again", baseline));
  const resumeOk = median(resume) <= 1000 && median(resume) <= median(baseline);
  console.log(`   resume/baseline ${(median(resume) / median(baseline)).toFixed(3)}x   target ≤ 1 s and ≤ baseline: ${resumeOk ? "PASS" : "MISS"}`);
}

/** 2. The checkpoint's cost: the same 10 MB write with and without durable workspaces. */
async function checkpointCost(sandboxes: NonNullable<Runtime["durable"]>, plain: Runtime): Promise<void> {
  check(await sandboxes.execute("bench-ckpt", "import os\nblob = os.urandom(10 * 1024 * 1024)"), "setting up");
  check(await plain.sandboxes.execute("bench-ckpt", "import os\nblob = os.urandom(10 * 1024 * 1024)"), "setting up");
  const withCheckpoint: number[] = [];
  const saving: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const code = `open('/mnt/data/out-${i % 3}.bin', 'wb').write(blob)`;
    let started = performance.now();
    check(await sandboxes.execute("bench-ckpt", code), "the write with a checkpoint");
    withCheckpoint.push(performance.now() - started);
    // The save goes on after the result, while a turn's model call would; the answer waits for it.
    started = performance.now();
    const notes = await sandboxes.settle("bench-ckpt");
    saving.push(performance.now() - started);
    if (notes.length) throw new Error(`the save failed: ${notes.join(" ")}`);
    started = performance.now();
    check(await plain.sandboxes.execute("bench-ckpt", code), "the write without");
    without.push(performance.now() - started);
  }
  const added = median(withCheckpoint) - median(without);
  console.log("2. an execution that writes a 10 MB file");
  console.log(row("   codebot: with durable workspaces, to the execution's result", withCheckpoint));
  console.log(row("   codebot: then until the file is saved (overlaps the turn)", saving));
  console.log(row("   baseline: WORKSPACE_STORE=none", without));
  console.log(`   the checkpoint adds ${added.toFixed(1)} ms median to the execution (p95 difference ${(percentile(withCheckpoint, 95) - percentile(without, 95)).toFixed(1)} ms)   target ≤ 50 ms: ${added <= 50 ? "PASS" : "MISS"}`);
  console.log(`   the save itself: ${median(saving).toFixed(1)} ms median after the result (p95 ${percentile(saving, 95).toFixed(1)} ms), before the turn's answer`);
}

/** 3. Sleeping sessions cost disk, not memory. */
async function sleepers(sandboxes: NonNullable<Runtime["durable"]>, storeDir: string, namespace: string, docker: Docker): Promise<void> {
  const beforeBytes = await folderBytes(storeDir);
  for (let i = 0; i < SLEEPERS; i += 10) {
    const ids = Array.from({ length: Math.min(10, SLEEPERS - i) }, (_, j) => `bench-sleeper-${i + j}`);
    await Promise.all(ids.map(async (id) => check(await sandboxes.execute(id, `x = list(range(1000))\nopen('/mnt/data/note.txt', 'w').write('${id}')`), "a sleeper's turn")));
    for (const id of ids) if (!(await sandboxes.hibernate(id))) throw new Error(`${id} did not go to sleep`);
  }
  const live = await docker.listContainers({ filters: { label: [`${LABEL_NAMESPACE}=${namespace}`] } });
  const sleeping = live.filter((info) => info.Names.some((name) => name.includes("bench-sleeper")));
  const memory = await containerMemory(docker, sleeping.map((info) => info.Id));
  const disk = (await folderBytes(storeDir)) - beforeBytes;
  console.log(`3. ${SLEEPERS} sleeping sessions: ${sleeping.length} containers, ${(memory / MIB).toFixed(1)} MiB of memory, ${(disk / MIB).toFixed(2)} MiB on disk ` +
    `(${(disk / SLEEPERS / 1024).toFixed(1)} KiB each)   target 0 containers, 0 MiB: ${sleeping.length === 0 && memory === 0 ? "PASS" : "MISS"}`);
}

runBenchmark(main);
