/**
 * npm run bench:sandbox — the sandbox's speed and memory against baselines measured in the same run:
 *  1. a trivial cell in an existing session vs `docker exec <container> python3 -c ...`
 *  2. the first execution in a new session (pool warm) vs a one-shot `docker run --rm <image> python3 -c "import ..."`
 *  3. resident memory of an idle warm session, and how many fit in 8 GiB.
 * RUNS (default 30) sets the sample count.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import Docker from "dockerode";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { createSandboxManager } from "../src/sandbox/create-sandbox-manager.js";
import { median, row, timeRuns } from "./stats.js";

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 30);
const IMPORTS = "import pandas, numpy, matplotlib";

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

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`, SANDBOX_POOL_SIZE: "2" });
  const manager = createSandboxManager(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
  const docker = new Docker();
  const image = config.SANDBOX_IMAGE;
  try {
    console.log(`codebot sandbox benchmark: ${RUNS} runs each, image ${image}, ${config.SANDBOX_CPUS} CPU and ${config.SANDBOX_MEMORY_MB} MiB per session\n`);
    await manager.warmUp();

    // 1. Warm execution in an existing session.
    const session = await manager.session("bench-warm");
    await session.execute("pass");
    const ours = await timeRuns(RUNS, () => session.execute("x = 1"));
    const dockerExec = await timeRuns(RUNS, () => run("docker", ["exec", session.container.id, "python3", "-c", "x = 1"]));
    const warmRatio = median(ours) / median(dockerExec);
    console.log("1. trivial cell in an existing session");
    console.log(row("   codebot: execute('x = 1')", ours));
    console.log(row("   baseline: docker exec <container> python3 -c 'x = 1'", dockerExec));
    console.log(`   ratio ${warmRatio.toFixed(3)}x   target <= 10 ms and <= 0.2x: ${verdict(median(ours) <= 10 && warmRatio <= 0.2)}\n`);

    // 2. First execution in a new session, with the pool warm before each run.
    let n = 0;
    const firstIds: string[] = [];
    const firsts = await timeRuns(
      RUNS,
      async () => {
        const id = `bench-new-${n++}`;
        firstIds.push(id);
        const result = await manager.execute(id, `${IMPORTS}\nx = 1`);
        if (result.status !== "ok") throw new Error(`first execution failed: ${JSON.stringify(result)}`);
      },
      async () => {
        await manager.kill(firstIds[firstIds.length - 1] ?? "");
        await manager.warmUp();
      },
    );
    const oneShot = await timeRuns(RUNS, () =>
      run("docker", ["run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c", IMPORTS]),
    );
    const firstRatio = median(firsts) / median(oneShot);
    console.log("2. first execution in a new session (pool warm): imports + a trivial cell");
    console.log(row("   codebot: new session, execute(imports; x = 1)", firsts));
    console.log(row(`   baseline: docker run --rm <image> python3 -c '${IMPORTS}'`, oneShot));
    console.log(`   ratio ${firstRatio.toFixed(3)}x   target <= 0.1x: ${verdict(firstRatio <= 0.1)}\n`);

    // 3. Memory of an idle warm session.
    const idle = await manager.session("bench-idle");
    await idle.execute("pass");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await idleMemoryBytes(docker, idle.container.id));
    const rss = median(samples);
    const perGiB = (8 * 1024 ** 3) / rss;
    console.log("3. idle warm session (pandas, numpy, matplotlib imported)");
    console.log(`   resident memory median ${(rss / 1024 ** 2).toFixed(1)} MiB   sessions in 8 GiB: ${Math.floor(perGiB)}`);
  } finally {
    await manager.close();
    await manager.destroyAll();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
