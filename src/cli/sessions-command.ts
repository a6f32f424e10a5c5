import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { sessionRows, sizeText } from "../ops/session-rows.js";
import { CliError } from "./cli-error.js";
import { connectRedis } from "./cli-redis.js";
import type { SandboxFactory, SandboxRuntime } from "./sandbox-factory.js";
import { SESSIONS_USAGE } from "./usages.js";

export { SESSIONS_USAGE };

/** `codebot sessions`: the running and sleeping sandbox sessions; put one to sleep, end one, apply the retention. */
export async function sessionsCommand(args: string[], config: Config, log: Logger, factory: SandboxFactory): Promise<number> {
  const [action, target, ...rest] = args;
  // Through Redis when it matters: a fleet's catalog, and so that a session a worker is using is never put to sleep under it.
  const redis = action === "hibernate" || config.SANDBOX_HOSTS ? await connectRedis(config.REDIS_URL) : undefined;
  try {
    return await run(factory.runtime(config, log, redis), config, action, target, rest.length > 0);
  } finally {
    redis?.disconnect();
  }
}

async function run(runtime: SandboxRuntime, config: Config, action: string | undefined, target: string | undefined, extra: boolean): Promise<number> {
  const { managers, fleet, durable, sandboxes } = runtime;
  if (action === "list" && (target === undefined || target === "--json") && !extra) {
    const running = fleet ? await fleet.listSessions() : await runtime.manager.listSessions();
    const all = sessionRows(running, (await durable?.workspaces.list()) ?? []);
    if (target === "--json") process.stdout.write(`${JSON.stringify(all)}\n`);
    else if (!all.length) process.stdout.write("No sessions.\n");
    else {
      process.stdout.write("SESSION\tSTATE\tFILES\tSIZE\tLAST USED\tDELETED AFTER\n");
      for (const row of all) {
        process.stdout.write(`${row.sessionId}\t${row.state}${row.status ? ` (${row.status})` : ""}\t${row.files ?? "-"}\t${sizeText(row.bytes)}\t${row.lastUsedAt ?? row.createdAt ?? "-"}\t${row.deletedAfter ?? "-"}\n`);
      }
    }
    return 0;
  }
  if (action === "kill" && target === "--all" && !extra) {
    await Promise.all(managers.map((manager) => manager.destroyAll()));
    process.stdout.write("Ended every running session and emptied the warm pool (saved workspaces are kept: `codebot sessions kill ID` deletes one).\n");
    return 0;
  }
  if (action === "kill" && target !== undefined && !extra) {
    if (await sandboxes.kill(target)) {
      process.stdout.write(`Ended session ${target} and deleted its saved files and variables.\n`);
      return 0;
    }
    process.stderr.write(`No session ${target}.\n`);
    return 1;
  }
  if (action === "hibernate" && target !== undefined && !extra) {
    if (!durable) throw new CliError("Durable workspaces are off (WORKSPACE_STORE=none): a session can't be put to sleep.");
    if (await durable.hibernate(target)) {
      process.stdout.write(`Session ${target} is asleep: its files and variables are saved, and its next message resumes it.\n`);
      return 0;
    }
    process.stderr.write(`Session ${target} is not running, or is in use right now.\n`);
    return 1;
  }
  if (action === "prune" && target === undefined) {
    if (!durable) throw new CliError("Durable workspaces are off (WORKSPACE_STORE=none): there is nothing to prune.");
    const pruned = await durable.workspaces.prune();
    process.stdout.write(`Deleted ${pruned} workspace${pruned === 1 ? "" : "s"} unused for over ${config.WORKSPACE_RETENTION_DAYS} days.\n`);
    return 0;
  }
  throw new CliError(`Usage: ${SESSIONS_USAGE}`);
}
