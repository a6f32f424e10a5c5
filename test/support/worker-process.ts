import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CLI } from "./run-cli.js";

export interface WorkerProcess {
  child: ChildProcess;
  logs(): string;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash case. */
  kill(): Promise<void>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when every process holding the worker's output has exited (npm's child included). */
  gone: Promise<void>;
}

/**
 * A real `codebot worker` process, as an admin would run it: the built CLI under node, or through
 * `npx codebot worker` (npm's own process in between, which has to pass signals on).
 */
export async function startWorker(env: Record<string, string>, { viaNpx = false } = {}): Promise<WorkerProcess> {
  const [command, args] = viaNpx ? ["npx", ["--no-install", "codebot", "worker"]] : [process.execPath, [CLI, "worker"]];
  const child = spawn(command, args, { cwd: fileURLToPath(new URL("../..", import.meta.url)), env: { ...process.env, LOG_LEVEL: "debug", METRICS_PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const gone = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const worker: WorkerProcess = {
    child,
    gone,
    logs: () => output,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async waitForLog(pattern, timeoutMs = 60_000) {
      const started = Date.now();
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${output}`);
        if (Date.now() - started > timeoutMs) throw new Error(`worker never logged ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
  await worker.waitForLog(/"msg":"worker started"/);
  return worker;
}
