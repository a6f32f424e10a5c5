/**
 * npm run bench:datasources — data sources from the sandbox's code, against a private PostgreSQL
 * (test/support/postgres-server.ts), under each runtime the engine has (runc, runsc), samples in turn:
 *  1. a 100,000-row × 5-column SELECT into a DataFrame inside a warm session (`df = sql(...)`),
 *     enqueue to result as the worker sees it, against the baseline: the same query with
 *     `psql \copy ... to CSV` plus `pd.read_csv` of that file in a plain container of the sandbox
 *     image (the read timed inside an already running Python, so no interpreter start is counted;
 *     `parse_dates` for the timestamp column, so both give the same dtypes). Target: ≤ 1.5× the
 *     baseline. Also shown: the ratio to a stricter baseline whose read_csv parses no date at all.
 *  2. the overhead of a 1-row query over the sandbox's own cell time (a trivial cell in the same
 *     session, interleaved). Target: ≤ 15 ms median.
 * RUNS (default 20) sets the sample count.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { CallAudit } from "../src/datasources/call-audit.js";
import { sessionCallHandler } from "../src/datasources/session-call-handler.js";
import { parseDataSources } from "../src/datasources/source-config.js";
import { SourceRegistry } from "../src/datasources/source-registry.js";
import { createLogger } from "../src/log.js";
import { createSandboxManager } from "../src/sandbox/docker/create-sandbox-manager.js";
import { engineRuntimes, GVISOR_RUNTIME } from "../src/sandbox/docker/runtime-detection.js";
import type { SandboxManager } from "../src/sandbox/sandbox-manager.js";
import { startPostgres } from "../test/support/postgres-server.js";
import { median, percentile, row, runBenchmark, timeInterleaved } from "./stats.js";

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 20);
const ROWS = 100_000;
const QUERY = "select a, b, c, d, e from bench";
const IMAGE = process.env.SANDBOX_IMAGE ?? "codebot-sandbox:latest";

interface Subject {
  runtime: string;
  manager: SandboxManager;
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const folder = mkdtempSync(join(tmpdir(), "codebot-bench-ds-"));
  chmodSync(folder, 0o755);
  const plain = `codebot-bench-ds-${process.pid}`;
  const subjects: Subject[] = [];
  let sources: SourceRegistry | undefined;
  try {
    await pg.admin(`create table bench as select i as a, i * 0.5::float8 as b, 'row ' || i as c, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second' as d, i % 2 = 0 as e from generate_series(1, ${ROWS}) i`);
    const log = pino({ level: "silent" });
    sources = new SourceRegistry(parseDataSources("bench:\n  kind: postgres\n  url_env: BENCH_URL\n  channels: ['*']\n  max_rows: 1000000\n  timeout_seconds: 120\n", { BENCH_URL: pg.adminUrl }), { log, audit: new CallAudit(log, false) });
    const caller = { channel: "local:-:bench", user: "local:bench", thread: "local:-:bench:t", requestId: "bench" };
    const onCall = sessionCallHandler(sources, caller, () => undefined);

    const { available } = await engineRuntimes(new Docker());
    const wanted = process.env.CODEBOT_TEST_RUNTIMES?.split(",").map((name) => name.trim());
    for (const runtime of ["runc", GVISOR_RUNTIME].filter((name) => available.includes(name) && (!wanted || wanted.includes(name)))) {
      const config = loadConfig({ ...process.env, SANDBOX_RUNTIME: runtime, SANDBOX_NAMESPACE: `cbt-bds-${runtime}`, SANDBOX_POOL_SIZE: "0", SANDBOX_TIMEOUT_SECONDS: "300", SANDBOX_MEMORY_MB: "2048" });
      const manager = createSandboxManager(config, createLogger("warn"));
      subjects.push({ runtime, manager });
      const warm = await manager.execute("bench", "from codebot import sql\nimport pandas as pd\nwarm = sql('bench', 'select 1 as x')", { onCall });
      if (warm.status !== "ok") throw new Error(`the session could not query: ${JSON.stringify(warm.error ?? warm.notes)}`);
    }
    console.log(`bench:datasources  image ${IMAGE}, runtimes ${subjects.map((subject) => subject.runtime).join(", ")}, ${RUNS} runs, PostgreSQL ${(await pg.admin("show server_version")).rows[0]?.server_version}`);

    // 1. The 100,000-row SELECT into a DataFrame, through the sandbox, each run alongside the
    // baseline's (psql \copy to a CSV on this machine, then pd.read_csv in a plain container of the
    // image), so a change in the machine's load falls on both alike.
    const check = async (subject: Subject) => {
      const result = await subject.manager.execute("bench", `df = sql('bench', '${QUERY}')\n(len(df), str(df.dtypes['d']))`, { onCall });
      if (result.result !== `(${ROWS}, 'datetime64[ns, UTC]')`) throw new Error(`unexpected result: ${result.result ?? JSON.stringify(result.error)}`);
    };
    const csv = join(folder, "bench.csv");
    await run("docker", ["run", "-d", "--rm", "--name", plain, "--network", "none", "--entrypoint", "python3", "-v", `${folder}:/data:ro`, IMAGE, "-c", "import time; time.sleep(3600)"]);
    const frames: number[][] = subjects.map(() => []);
    const copies: number[] = [];
    const reads: number[] = [];
    const rawReads: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await run("psql", [pg.adminUrl, "-q", "-c", `\\copy (${QUERY}) to '${csv}' csv header`]);
      copies.push(performance.now() - started);
      chmodSync(csv, 0o644);
      const { stdout } = await run("docker", [
        "exec", plain, "python3", "-c",
        "import time, pandas as pd\nt = time.perf_counter()\ndf = pd.read_csv('/data/bench.csv', parse_dates=['d'])\nassert len(df) == 100000\nu = time.perf_counter()\npd.read_csv('/data/bench.csv')\nprint((u - t) * 1000, (time.perf_counter() - u) * 1000)",
      ]);
      const [parsed, raw] = stdout.trim().split(" ").map(Number);
      reads.push(parsed!);
      rawReads.push(raw!);
      for (const [index, subject] of subjects.entries()) {
        const begun = performance.now();
        await check(subject);
        frames[index]!.push(performance.now() - begun);
      }
    }
    const baseline = copies.map((copy, i) => copy + reads[i]!);
    const strict = copies.map((copy, i) => copy + rawReads[i]!);

    // 2. A 1-row query over a trivial cell, interleaved in the same session.
    const overheadSubjects = subjects.flatMap((subject) => [
      { subject, code: "x = 1" },
      { subject, code: "one = sql('bench', 'select 1 as x')" },
    ]);
    const cells = await timeInterleaved(RUNS * 2, overheadSubjects, ({ subject, code }) => subject.manager.execute("bench", code, { onCall }));

    console.log("\n1. 100,000 rows x 5 columns into a DataFrame");
    console.log(row("psql \\copy to CSV (host)", copies));
    console.log(row("pd.read_csv of it (plain container, timed in Python)", reads));
    console.log(row("baseline: \\copy + read_csv", baseline));
    console.log(row("read_csv parsing no date (the dates left as text)", rawReads));
    console.log(row("stricter baseline: \\copy + read_csv without dates", strict));
    for (const [i, subject] of subjects.entries()) {
      const ratio = median(frames[i]!) / median(baseline);
      console.log(row(`${subject.runtime}: df = sql(...) in a warm session (host's view)`, frames[i]!));
      console.log(`   ${subject.runtime}: ratio to baseline ${ratio.toFixed(2)}x (median), p95 ${(percentile(frames[i]!, 95) / percentile(baseline, 95)).toFixed(2)}x   target <= 1.5x: ${ratio <= 1.5 ? "PASS" : "MISS"}`);
      const paired = frames[i]!.map((sample, k) => sample / baseline[k]!);
      console.log(`   ${subject.runtime}: median of the paired ratios (each run against its own baseline) ${median(paired).toFixed(2)}x; ratio to the stricter baseline ${(median(frames[i]!) / median(strict)).toFixed(2)}x`);
    }
    console.log("\n2. a 1-row query over the sandbox's own cell time");
    for (const [i, subject] of subjects.entries()) {
      const trivial = cells[2 * i]!;
      const query = cells[2 * i + 1]!;
      const overhead = median(query) - median(trivial);
      console.log(row(`${subject.runtime}: trivial cell`, trivial));
      console.log(row(`${subject.runtime}: cell with a 1-row sql()`, query));
      console.log(`   ${subject.runtime}: overhead ${overhead.toFixed(2)} ms median (p95 ${(percentile(query, 95) - percentile(trivial, 95)).toFixed(2)} ms)   target <= 15 ms: ${overhead <= 15 ? "PASS" : "MISS"}`);
    }
  } finally {
    await run("docker", ["rm", "-f", plain]).catch(() => undefined);
    for (const subject of subjects) {
      await subject.manager.close();
      await subject.manager.destroyAll();
    }
    await sources?.close();
    await pg.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

runBenchmark(main);
