import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import { createSandboxManager } from "../sandbox/create-sandbox-manager.js";
import { SandboxError } from "../sandbox/sandbox-error.js";
import { CliError } from "./cli-error.js";
import { checkAttachments, readCode } from "./read-input.js";
import { EXEC_USAGE } from "./usages.js";

export { EXEC_USAGE };

function humanSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

function printPlain(result: ExecutionResult): void {
  process.stdout.write(result.stdout);
  if (result.result !== undefined) process.stdout.write(`${result.result}\n`);
  process.stderr.write(result.stderr);
  if (result.error) process.stderr.write(result.error.traceback);
  for (const file of result.files) process.stderr.write(`[file] ${file.path} (${humanSize(file.size)}, ${file.mime})\n`);
  if (result.images.length) process.stderr.write(`[${result.images.length} image(s) produced: use --json to get them]\n`);
  for (const note of result.notes) process.stderr.write(`[${result.status}] ${note}\n`);
}

/** `codebot exec`: runs code in a sandbox session from the command line, with no Redis or LLM. */
export async function execCommand(args: string[], config: Config, log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      session: { type: "string" },
      attach: { type: "string", multiple: true, default: [] },
      timeout: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) throw new CliError(`Too many arguments.\nUsage: ${EXEC_USAGE}`);
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0 && timeoutSeconds <= 3600)) {
    throw new CliError("--timeout takes a number of seconds between 0 and 3600.");
  }
  await checkAttachments(values.attach);
  const code = await readCode(positionals[0]);
  const manager = createSandboxManager(config, log);
  const ephemeral = values.session === undefined;
  const sessionId = values.session ?? `exec-${randomBytes(6).toString("hex")}`;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on("SIGINT", onSigint);
  // No engine, image or runtime to run on: nothing was opened, and nothing is left to tidy (or to warm).
  let unusable = false;
  try {
    if (values.attach.length) {
      await manager.upload(sessionId, values.attach.map((path) => ({ name: basename(path), path })));
    }
    const result = await manager.execute(sessionId, code, {
      timeoutMs: timeoutSeconds === undefined ? undefined : Math.round(timeoutSeconds * 1000),
      signal: abort.signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printPlain(result);
    return result.status === "ok" ? 0 : 1;
  } catch (error) {
    unusable = error instanceof SandboxError && ["DOCKER_UNAVAILABLE", "IMAGE_MISSING", "RUNTIME_MISSING"].includes(error.code);
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
    if (!unusable) {
      if (ephemeral) await manager.kill(sessionId).catch(() => undefined);
      await manager.close();
    }
  }
}
