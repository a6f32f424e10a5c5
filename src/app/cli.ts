import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { CliError } from "../cli/cli-error.js";
import { loadEnvFile } from "../cli/env-file.js";
import type { SandboxFactory } from "../cli/sandbox-factory.js";
import * as usages from "../cli/usages.js";
import { createLogger, secretValues, type Logger } from "../log.js";
import { lineScrubber } from "../log-redaction.js";
import { engineUnreachableSentence } from "../sandbox/docker/engine-problem.js";
import { SandboxError } from "../sandbox/sandbox-error.js";

type Command = (args: string[], config: Config, log: Logger) => Promise<number>;

/** A command that acts on sessions, handed the sandboxes' factory (the backend is chosen in ./sandboxes.ts, loaded with it). */
async function withSandboxes(command: (args: string[], config: Config, log: Logger, factory: SandboxFactory) => Promise<number>): Promise<Command> {
  const { sandboxFactory } = await import("./sandboxes.js");
  return (args, config, log) => command(args, config, log, sandboxFactory);
}

interface CommandEntry {
  /** The command's code, loaded when it runs (so `--help`, `--version` and small commands start fast). */
  load(): Promise<Command>;
  usage: string;
  /** The log level it uses when LOG_LEVEL is unset. */
  logLevel: string;
  /** Runs until stopped and ends the process itself (bot, worker); a one-shot command's process ends with it. */
  longRunning?: boolean;
  /** Talks to the Docker engine: an engine that doesn't answer is said as such. */
  engine?: boolean;
}

const commands: Record<string, CommandEntry> = {
  bot: { load: async () => { const { runBot } = await import("./bot.js"); return (_args, config, log) => runBot(config, log); }, usage: "codebot bot", logLevel: "info", longRunning: true },
  worker: { load: async () => { const { runWorker } = await import("./worker.js"); return (_args, config, log) => runWorker(config, log); }, usage: "codebot worker", logLevel: "info", longRunning: true, engine: true },
  discord: { load: async () => (await import("../cli/discord-command.js")).discordCommand, usage: usages.DISCORD_USAGE, logLevel: "warn" },
  ask: { load: async () => (await import("../cli/ask-command.js")).askCommand, usage: usages.ASK_USAGE, logLevel: "warn" },
  chat: { load: async () => (await import("../cli/chat-command.js")).chatCommand, usage: usages.CHAT_USAGE, logLevel: "warn" },
  export: { load: async () => (await import("../cli/export-command.js")).exportCommand, usage: usages.EXPORT_USAGE, logLevel: "warn" },
  exec: { load: async () => withSandboxes((await import("../cli/exec-command.js")).execCommand), usage: usages.EXEC_USAGE, logLevel: "warn", engine: true },
  sessions: { load: async () => withSandboxes((await import("../cli/sessions-command.js")).sessionsCommand), usage: usages.SESSIONS_USAGE, logLevel: "warn", engine: true },
  hosts: { load: async () => withSandboxes((await import("../cli/hosts-command.js")).hostsCommand), usage: usages.HOSTS_USAGE, logLevel: "warn", engine: true },
  usage: { load: async () => (await import("../cli/usage-command.js")).usageCommand, usage: usages.USAGE_USAGE, logLevel: "warn" },
  schedules: { load: async () => (await import("../cli/schedules-command.js")).schedulesCommand, usage: usages.SCHEDULES_USAGE, logLevel: "warn" },
  sources: { load: async () => (await import("../cli/sources-command.js")).sourcesCommand, usage: usages.SOURCES_USAGE, logLevel: "warn" },
};

function usage(): string {
  return ["Usage:", ...Object.values(commands).map((command) => `  ${command.usage}`), "  codebot COMMAND --help | codebot --version"].join("\n");
}

/** The installed package's version (package.json sits three folders above dist/src/app/cli.js). */
function version(): string {
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8")) as { version?: string };
  return manifest.version ?? "unknown";
}

/** A command by its name (and nothing of Object's prototype: `codebot constructor` is unknown). */
function lookUp(name: string): CommandEntry | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

/** The command being run, and what the .env file set, for the error handler. */
let running: CommandEntry | undefined;
let envFile: ReturnType<typeof loadEnvFile>;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`codebot ${version()}\n`);
    return 0;
  }
  const helped = name === "help" && args[0] !== undefined ? lookUp(args[0]) : undefined;
  if (helped) {
    process.stdout.write(`Usage: ${helped.usage}\n`);
    return 0;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === undefined) throw new CliError(`Which command?\n${usage()}`);
  const command = lookUp(name);
  if (!command) throw new CliError(`Unknown command "${name}".\n${usage()}`);
  running = command;
  // `codebot worker --help` says how to use it; it never starts a worker (nor reads the config).
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`Usage: ${command.usage}\n`);
    return 0;
  }
  // ./.env, as compose reads it, before the config is validated; the environment wins over it.
  envFile = loadEnvFile();
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL ?? command.logLevel);
  reportCrashes(log);
  if (command.longRunning) stopWhileStarting(name, log);
  const run = await command.load();
  return run(args, config, log);
}

/**
 * A failure no code waits for (a library's background promise: Bolt checks the Slack token as it
 * starts) still ends the process, as Node would, but through the logger: Node's own report prints
 * the error whole, with whatever request (and credentials) it carries.
 */
function reportCrashes(log: Logger): void {
  const crash = (what: string) => (error: unknown) => {
    log.fatal({ err: error }, what);
    void exit(1);
  };
  process.on("unhandledRejection", crash("a promise failed with nothing waiting for it"));
  process.on("uncaughtException", crash("an error went uncaught"));
}

const PARENT_CHECK_MS = 500;

/**
 * Until a bot or worker is up and watching for its own stop (src/app/shutdown.ts), SIGTERM, SIGINT or
 * its parent going away (npm's shell under `npx`, which passes no signal on) ends it at once: one
 * whose Redis doesn't answer would wait at its start for ever, orphaned under npx. Once the
 * command listens for SIGTERM itself, this steps aside.
 */
function stopWhileStarting(name: string, log: Logger): void {
  const parent = process.ppid;
  const timer = setInterval(() => process.ppid !== parent && parent > 1 && stop("parent-exited"), PARENT_CHECK_MS);
  timer.unref();
  const stop = (reason: string) => {
    log.warn({ reason }, `${name} stopped while still starting (is Redis reachable?)`);
    void exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  const handOver = (event: string | symbol) => {
    if (event !== "SIGTERM") return;
    clearInterval(timer);
    process.off("newListener", handOver);
    // Once the command's own listener is in: taking ours off first would leave SIGTERM with no
    // listener for a moment, and Node would stop catching the signal for good.
    queueMicrotask(() => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("newListener", handOver);
}

/** One line (or a usage after it) for what stopped the command; a stack trace only with LOG_LEVEL=debug or trace. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) {
    const fromFile = envFile?.names.filter((name) => new RegExp(`^  ${name}:`, "m").test(error.message)) ?? [];
    return fromFile.length ? `${error.message}\n(${fromFile.join(", ")} ${fromFile.length === 1 ? "comes" : "come"} from ${envFile!.path})` : error.message;
  }
  if (error instanceof CliError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: string } | undefined)?.code?.startsWith("ERR_PARSE_ARGS")) return running ? `${message}\nUsage: ${running.usage}` : message;
  const unreachable = running?.engine ? engineUnreachableSentence(error) : undefined;
  if (unreachable) return unreachable;
  if (error instanceof SandboxError) return error.message;
  if (["debug", "trace"].includes(process.env.LOG_LEVEL ?? "")) return (error as Error)?.stack ?? message;
  return `${message} (LOG_LEVEL=debug shows where it happened)`;
}

/** Waits until what was written to a stream has been handed to the system (pipes are asynchronous on some systems). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write("", () => resolve());
  });
}

/**
 * A one-shot command's process ends when the command does, whatever a client library still holds
 * (a Redis client's reconnect or disconnect timer, a keep-alive socket). Bot and worker end
 * themselves once they have stopped.
 */
async function exit(code: number): Promise<void> {
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** `codebot …`: runs the command argv names, and ends the process as that command wants. */
export function runCli(argv: string[]): void {
  // Output piped into a command that stopped reading (`codebot sessions list | head -1`): nothing more to say.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(argv).then(
    (code) => {
      if (running?.longRunning) process.exitCode = code;
      else void exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`codebot: ${lineScrubber(secretValues())(describe(error))}\n`);
      void exit(error instanceof CliError ? error.exitCode : 2);
    },
  );
}
