import { spawn } from "node:child_process";
import { CLI } from "./run-cli.js";

export interface BotProcess {
  logs(): string;
  kill(): Promise<void>;
}

/** A real `codebot bot` process, started and waited for until it logs `readyPattern`. */
export async function startBot(env: Record<string, string>, readyPattern = /"msg":"bot started"/): Promise<BotProcess> {
  const child = spawn(process.execPath, [CLI, "bot"], { env: { ...process.env, LOG_LEVEL: "debug", METRICS_PORT: "0", BOT_METRICS_PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const started = Date.now();
  while (!readyPattern.test(output)) {
    if (child.exitCode !== null) throw new Error(`bot exited (${child.exitCode}):\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`bot never became ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    logs: () => output,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A `codebot bot` process run until it exits or `ms` pass (then killed), whatever it logs; `during`
 * runs while it is up (e.g. sends it an event). Resolves with everything it wrote and its exit code.
 */
export async function runBotFor(env: Record<string, string>, ms: number, during: (logs: () => string) => Promise<void> = async () => undefined): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, [CLI, "bot"], { env: { ...process.env, LOG_LEVEL: "debug", METRICS_PORT: "0", BOT_METRICS_PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await Promise.race([during(() => output).catch(() => undefined), exited]);
  const code = await exited;
  clearTimeout(timer);
  return { output, code };
}
