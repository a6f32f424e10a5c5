import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import { SandboxError } from "../sandbox/sandbox-error.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import { CliError } from "./cli-error.js";
import { optionalRedis } from "./cli-redis.js";
import type { SandboxFactory } from "./sandbox-factory.js";
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

/** How long `codebot exec --session` waits for Redis before it goes on without it. */
const REDIS_WAIT_MS = 1500;

/**
 * `codebot exec`: runs code in a sandbox session from the command line, with no LLM. A run without
 * --session is ephemeral and needs nothing but the engine. A --session is an ordinary durable
 * session, as a thread's: its files are saved as it goes, it can be put to sleep (`codebot sessions
 * hibernate`, or a worker's sweep when idle) and resumes with its variables, saying what was lost.
 * It shares the workers' slots (and a fleet's catalog) through Redis when Redis answers; without
 * Redis live containers are counted.
 */
export async function execCommand(args: string[], config: Config, log: Logger, factory: SandboxFactory): Promise<number> {
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
  const ephemeral = values.session === undefined;
  const sessionId = values.session ?? `exec-${randomBytes(6).toString("hex")}`;
  const redis = ephemeral ? undefined : await optionalRedis(config.REDIS_URL, REDIS_WAIT_MS);
  if (!ephemeral && !redis) log.debug("Redis did not answer: this session's slot is not shared with the workers");
  const runtime = ephemeral ? undefined : factory.runtime(config, log, redis);
  const engine = runtime ? undefined : factory.engine(config, log);
  const managers = runtime?.managers ?? [engine!];
  const sandboxes: Sandboxes = runtime?.sandboxes ?? engine!;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on("SIGINT", onSigint);
  // No engine, image or runtime to run on: nothing was opened, and nothing is left to tidy (or to warm).
  let unusable = false;
  try {
    if (values.attach.length) {
      await sandboxes.upload(sessionId, values.attach.map((path) => ({ name: basename(path), path })));
    }
    const executed = await sandboxes.execute(sessionId, code, {
      timeoutMs: timeoutSeconds === undefined ? undefined : Math.round(timeoutSeconds * 1000),
      signal: abort.signal,
    });
    // The files it changed are saved before the command ends; what could not be is said.
    const saveNotes = (await sandboxes.settle?.(sessionId)) ?? [];
    const result = saveNotes.length ? { ...executed, notes: [...executed.notes, ...saveNotes] } : executed;
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printPlain(result);
    return result.status === "ok" ? 0 : 1;
  } catch (error) {
    unusable = error instanceof SandboxError && ["DOCKER_UNAVAILABLE", "IMAGE_MISSING", "RUNTIME_MISSING"].includes(error.code);
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
    if (!unusable) {
      if (ephemeral) await sandboxes.kill(sessionId).catch(() => undefined);
      await Promise.all(managers.map((manager) => manager.close()));
    }
    redis?.disconnect();
  }
}
