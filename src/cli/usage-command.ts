import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { UsageLedger } from "../agent/usage-ledger.js";
import { keys } from "../queue/queue-keys.js";
import { createRedis } from "../queue/redis-connection.js";
import { CliError } from "./cli-error.js";

export const USAGE_USAGE = "codebot usage [users | threads] [--json]";

/** `codebot usage`: model tokens used, per user (default) or per thread, most first. */
export async function usageCommand(args: string[], config: Config, _log: Logger): Promise<number> {
  const json = args.includes("--json");
  const rest = args.filter((arg) => arg !== "--json");
  if (rest.length > 1 || (rest[0] && !["users", "threads"].includes(rest[0]))) throw new CliError(`Usage: ${USAGE_USAGE}`);
  const redis = createRedis(config.REDIS_URL);
  try {
    const rows = await new UsageLedger(redis, keys(config.QUEUE_PREFIX)).all(rest[0] === "threads" ? "thread" : "user");
    if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) process.stdout.write("No usage recorded yet.\n");
    else for (const row of rows) process.stdout.write(`${row.id}\tprompt ${row.prompt_tokens}\tcompletion ${row.completion_tokens}\trequests ${row.requests}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
