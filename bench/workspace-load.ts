/**
 * The heavy parts of `npm run bench:workspace`: a worker's memory while many threads save at once,
 * and the save of many small files. Both run against the durable sandboxes of the benchmark, in
 * this process, as a worker would (it is the worker whose memory is measured).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Readable } from "node:stream";
import Docker from "dockerode";
import type { ExecutionResult } from "../src/core/execution-result.js";
import type { SandboxEngine } from "../src/sandbox/sandbox-engine.js";
import type { DurableSandboxes } from "../src/workspace/durable-sandboxes.js";
import { workspaceIdFor } from "../src/workspace/workspace-id.js";
import { median, percentile, row } from "./stats.js";

const MIB = 1024 * 1024;

function check(result: ExecutionResult, what: string): ExecutionResult {
  if (result.status !== "ok") throw new Error(`${what} failed: ${JSON.stringify(result).slice(0, 1500)}`);
  return result;
}

function statusKib(field: "VmRSS" | "VmHWM"): number {
  return Number(readFileSync("/proc/self/status", "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? Number.NaN);
}

/** Resets this process's peak resident memory (VmHWM) to its current size (Linux ≥ 4.0); false where it can't. */
function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** The resident memory's peak over a task: VmHWM after a reset, or (without one) the highest of samples every 10 ms. */
async function peakDuring(task: () => Promise<void>): Promise<number> {
  const exact = resetPeak();
  let sampled = statusKib("VmRSS");
  const timer = setInterval(() => (sampled = Math.max(sampled, statusKib("VmRSS"))), 10);
  try {
    await task();
  } finally {
    clearInterval(timer);
  }
  return (exact ? statusKib("VmHWM") : Math.max(sampled, statusKib("VmRSS"))) * 1024;
}

async function settleQuietly(): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return statusKib("VmRSS") * 1024;
}

/** Each thread's 200 MB (four 50 MB files) made out of sight (in the runner's folder), then moved in by a cell: its save starts at once. */
const PREPARE = "import os\nos.makedirs('/mnt/data/.codebot/prep', exist_ok=True)\nblock = os.urandom(50 * 1024 * 1024)\nfor i in range(4):\n    open('/mnt/data/.codebot/prep/part-%d.bin' % i, 'wb').write(block)\ndel block";
const RELEASE = "import os\nfor name in os.listdir('/mnt/data/.codebot/prep'):\n    os.rename('/mnt/data/.codebot/prep/' + name, '/mnt/data/' + name)";

/** 4. Peak worker RSS while `threads` threads each save 200 MB at once (target: under 300 MB above idle). */
export async function concurrentSaves(sandboxes: DurableSandboxes, threads: number, rounds: number): Promise<void> {
  const ids = Array.from({ length: threads }, (_, i) => `bench-mem-${i}`);
  await Promise.all(ids.map(async (id) => check(await sandboxes.execute(id, "pass"), "opening a session")));
  const above: number[] = [];
  const saves: number[] = [];
  let idle = 0;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(ids.map(async (id) => check(await sandboxes.execute(id, PREPARE, { timeoutMs: 120_000 }), "making 200 MB")));
    idle = await settleQuietly();
    let took = 0;
    const peak = await peakDuring(async () => {
      const started = performance.now();
      await Promise.all(
        ids.map(async (id) => {
          check(await sandboxes.execute(id, RELEASE), "moving the files in");
          const notes = await sandboxes.settle(id);
          if (notes.length) throw new Error(`the save of ${id} failed: ${notes.join(" ")}`);
        }),
      );
      took = performance.now() - started;
    });
    above.push((peak - idle) / MIB);
    saves.push(took);
  }
  const summary = await sandboxes.workspaces.summary(ids[0]!);
  if ((summary?.bytes ?? 0) < 200 * MIB) throw new Error(`a thread kept ${summary?.bytes} bytes, not 200 MB`);
  console.log(`4. ${threads} threads each saving 200 MB at once (${rounds} rounds; directory store)`);
  console.log(`   worker resident memory at idle (baseline): ${(idle / MIB).toFixed(0)} MiB`);
  console.log(
    `   peak above idle: median ${median(above).toFixed(1)} MiB, p95 ${percentile(above, 95).toFixed(1)} MiB (${((median(above) * MIB) / idle).toFixed(2)}× the idle worker)   ` +
      `target < 300 MiB: ${percentile(above, 95) < 300 ? "PASS" : "MISS"}`,
  );
  console.log(row(`   all ${threads} saves (${(threads * 200) / 1000} GB), from the cells' start`, saves));
}

/** Puts `count` objects of `size` bytes straight into the store, 8 at a time (as a save writes small files). */
async function putMany(sandboxes: DurableSandboxes, workspace: string, count: number, size: number): Promise<void> {
  const id = workspaceIdFor(workspace);
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const put: Promise<void> = sandboxes.workspaces.store.put(id, `files/small/f${i}.csv`, Buffer.alloc(size, 120)).then(() => void inFlight.delete(put));
    inFlight.add(put);
    while (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

const MAKE_SMALL = (round: number) =>
  `import os\nos.makedirs('/mnt/data/small', exist_ok=True)\nfor i in range(10000):\n    with open('/mnt/data/small/f%05d.csv' % i, 'w') as f: f.write('%d,${round},' % i + 'x' * 64 + '\\n')`;

/** 5. The save of 10,000 small files, against the engine's archive read of the same folder (the raw transfer). */
export async function manySmallFiles(sandboxes: DurableSandboxes, manager: SandboxEngine, runs: number): Promise<void> {
  const id = "bench-small";
  const saveAll: number[] = [];
  const saveOne: number[] = [];
  const rawArchive: number[] = [];
  const storeOnly: number[] = [];
  const docker = new Docker();
  for (let run = 0; run < runs; run++) {
    check(await sandboxes.execute(id, MAKE_SMALL(run), { timeoutMs: 120_000 }), "writing 10,000 files");
    let started = performance.now();
    const notes = await sandboxes.settle(id);
    saveAll.push(performance.now() - started);
    if (notes.length) throw new Error(`the save failed: ${notes.join(" ")}`);
    check(await sandboxes.execute(id, `open('/mnt/data/small/f00042.csv', 'a').write('more ${run}\\n')`), "changing one file");
    started = performance.now();
    await sandboxes.settle(id);
    saveOne.push(performance.now() - started);
    const container = docker.getContainer((await manager.session(id)).sandboxId);
    started = performance.now();
    const archive = (await container.getArchive({ path: "/mnt/data/small" })) as Readable;
    for await (const _ of archive) void _;
    rawArchive.push(performance.now() - started);
    started = performance.now();
    await putMany(sandboxes, `bench-store-only-${run}`, 10_000, 74);
    storeOnly.push(performance.now() - started);
    await sandboxes.workspaces.store.deleteWorkspace(workspaceIdFor(`bench-store-only-${run}`));
  }
  const summary = await sandboxes.workspaces.summary(id);
  if (summary?.files !== 10_000) throw new Error(`the workspace keeps ${summary?.files} files, not 10,000`);
  console.log(`5. 10,000 small files (74 bytes each), all rewritten, then one of them changed (${runs} runs)`);
  console.log(row("   codebot: save all 10,000 (full sync: listed, compared, streamed)", saveAll));
  console.log(row("   codebot: save after one changed (full sync: only it is sent)", saveOne));
  console.log(row("   baseline: the engine's archive of the folder, read and dropped", rawArchive));
  console.log(row("   baseline: the same 10,000 objects put in the store alone", storeOnly));
  console.log(
    `   save all / archive read ${(median(saveAll) / median(rawArchive)).toFixed(1)}x, / store alone ${(median(saveAll) / median(storeOnly)).toFixed(2)}x; ` +
      `one changed / all ${(median(saveOne) / median(saveAll)).toFixed(2)}x`,
  );
}
