#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runWorker } from "../workers/worker.js";
import { runBot } from "./bot/run-bot.js";
import { ConfigError, loadConfig } from "./config.js";
import { ASK_USAGE, askCommand } from "./cli/ask-command.js";
import { CHAT_USAGE, chatCommand } from "./cli/chat-command.js";
import { CliError } from "./cli/cli-error.js";
import { DISCORD_USAGE, discordCommand } from "./cli/discord-command.js";
import { EXEC_USAGE, execCommand } from "./cli/exec-command.js";
import { EXPORT_USAGE, exportCommand } from "./cli/export-command.js";
import { HOSTS_USAGE, hostsCommand } from "./cli/hosts-command.js";
import { SESSIONS_USAGE, sessionsCommand } from "./cli/sessions-command.js";
import { USAGE_USAGE, usageCommand } from "./cli/usage-command.js";
import { createLogger } from "./log.js";
import { SandboxError } from "./sandbox/sandbox-error.js";

type Command = (args: string[], config: ReturnType<typeof loadConfig>, log: ReturnType<typeof createLogger>) => Promise<number>;

/** Each command, its usage line, and the log level it uses when LOG_LEVEL is unset. */
const commands: Record<string, { run: Command; usage: string; logLevel: string }> = {
  bot: { run: (_args, config, log) => runBot(config, log), usage: "codebot bot", logLevel: "info" },
  worker: { run: (_args, config, log) => runWorker(config, log), usage: "codebot worker", logLevel: "info" },
  discord: { run: discordCommand, usage: DISCORD_USAGE, logLevel: "warn" },
  ask: { run: askCommand, usage: ASK_USAGE, logLevel: "warn" },
  chat: { run: chatCommand, usage: CHAT_USAGE, logLevel: "warn" },
  export: { run: exportCommand, usage: EXPORT_USAGE, logLevel: "warn" },
  exec: { run: execCommand, usage: EXEC_USAGE, logLevel: "warn" },
  sessions: { run: sessionsCommand, usage: SESSIONS_USAGE, logLevel: "warn" },
  hosts: { run: hostsCommand, usage: HOSTS_USAGE, logLevel: "warn" },
  usage: { run: usageCommand, usage: USAGE_USAGE, logLevel: "warn" },
};

function usage(): string {
  return ["Usage:", ...Object.values(commands).map((command) => `  ${command.usage}`), "  codebot COMMAND --help | codebot --version"].join("\n");
}

/** The installed package's version (package.json sits two folders above dist/src/index.js). */
function version(): string {
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version?: string };
  return manifest.version ?? "unknown";
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`codebot ${version()}\n`);
    return 0;
  }
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) throw new CliError(`Unknown command "${name}".\n${usage()}`);
  // `codebot worker --help` says how to use it; it never starts a worker (nor reads the config).
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`Usage: ${command.usage}\n`);
    return 0;
  }
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL ?? command.logLevel);
  return command.run(args, config, log);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof CliError || error instanceof ConfigError || error instanceof SandboxError;
    const argumentError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const message = known || argumentError ? (error as Error).message : (error as Error)?.stack ?? String(error);
    process.stderr.write(`codebot: ${message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 2;
  },
);
