/**
 * npm run bench:flood — what one session flooding its output costs the worker, and whether another
 * thread still gets quick answers meanwhile. In one process (as a worker is): session A runs a cell
 * that writes 64 KiB chunks without a newline until its timeout; session B runs a trivial cell every
 * 50 ms throughout. Baseline, in the same run: B's trivial cells with no flood. Prints medians, p95,
 * the ratio, the worker's CPU seconds during the flood and its peak resident memory growth.
 * Targets: the flood costs the worker at most a few seconds of CPU and a bounded amount of memory;
 * B's trivial cell stays under 100 ms.
 */
import { randomBytes } from "node:crypto";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { createSandboxManager } from "../src/sandbox/docker/create-sandbox-manager.js";
import { median, percentile, row, timeRuns } from "./stats.js";

const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 10);
const FLOOD = "import sys\nchunk = 'x' * 65536\nwhile True:\n    sys.stdout.write(chunk)";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const runtime = process.env.SANDBOX_RUNTIME ?? "auto";
  const config = loadConfig({ ...process.env, SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`, SANDBOX_POOL_SIZE: "0", SANDBOX_RUNTIME: runtime });
  const manager = createSandboxManager(config, createLogger("warn"));
  try {
    await manager.execute("flood-a", "1");
    await manager.execute("flood-b", "1");
    const baseline = await timeRuns(40, () => manager.execute("flood-b", "1 + 1"), () => sleep(50));

    const cpuBefore = process.cpuUsage();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const flood = manager.execute("flood-a", FLOOD, { timeoutMs: FLOOD_SECONDS * 1000 });
    let flooding = true;
    void flood.finally(() => (flooding = false));
    const during: number[] = [];
    while (flooding) {
      const started = performance.now();
      await manager.execute("flood-b", "1 + 1");
      during.push(performance.now() - started);
      await sleep(50);
    }
    const result = await flood;
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpuBefore);

    console.log(`bench:flood — ${FLOOD_SECONDS} s of output flood in one session, trivial cells in another (runtime setting: ${runtime})\n`);
    console.log(row("trivial cell in session B, no flood (baseline)", baseline));
    console.log(row("trivial cell in session B while A floods", during));
    console.log(`ratio (flood / baseline, medians): ${(median(during) / median(baseline)).toFixed(2)}x; p95 while flooding ${percentile(during, 95).toFixed(1)} ms (target < 100 ms)`);
    console.log(`flooding cell: status ${result.status}, ${result.stdout.length} characters kept of its output`);
    console.log(`worker CPU during the flood: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over ${FLOOD_SECONDS} s (target: a few seconds at most)`);
    console.log(`worker resident memory growth at peak: ${((peak - rssBefore) / 1048576).toFixed(1)} MiB (bound: one answer frame, at most ${(2 * 6 * config.SANDBOX_MAX_OUTPUT_BYTES / 1048576).toFixed(0)} MiB of output text)`);
  } finally {
    await manager.close();
    await manager.destroyAll();
  }
}

await main();
