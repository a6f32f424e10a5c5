import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createScheduleStore } from "../schedules/create-schedules.js";
import { SCHEDULE_ID, type ScheduleView } from "../schedules/schedule-record.js";
import { standing } from "../schedules/schedule-text.js";
import { CliError } from "./cli-error.js";
import { connectRedis } from "./cli-redis.js";
import { SCHEDULES_USAGE } from "./usages.js";

export { SCHEDULES_USAGE };

/** One schedule in a few lines: id, where, whose, when, what, and how it stands. */
function scheduleText(schedule: ScheduleView, now: number): string {
  const request = schedule.text.length > 100 ? `${schedule.text.slice(0, 100)}…` : schedule.text;
  return [
    `${schedule.id}  ${schedule.words} (${schedule.cron}, ${schedule.timeZone})`,
    `  thread: ${schedule.threadKey}`,
    `  creator: ${schedule.creator.platform}:${schedule.creator.id} (${schedule.creator.name})`,
    `  request: ${JSON.stringify(request)}`,
    `  ${standing(schedule, now).replace(/\*\*/g, "").replace(/`/g, "")}`,
  ].join("\n");
}

/**
 * `codebot schedules list [--json]`: every schedule, its next run and last outcome.
 * `codebot schedules remove ID`: stops its runs and forgets it (the thread's workspace is untouched).
 */
export async function schedulesCommand(args: string[], config: Config, _log: Logger): Promise<number> {
  const [action, argument, ...rest] = args;
  const listing = action === "list" && (argument === undefined || (argument === "--json" && !rest.length));
  const removing = action === "remove" && argument !== undefined && !rest.length;
  if (!listing && !removing) throw new CliError(`Usage: ${SCHEDULES_USAGE}`);
  if (removing && !SCHEDULE_ID.test(argument.toLowerCase())) throw new CliError(`"${argument.slice(0, 40)}" is not a schedule id (six letters and digits: \`codebot schedules list\` shows them).`);
  const redis = await connectRedis(config.REDIS_URL);
  const schedules = createScheduleStore(config, redis);
  try {
    if (removing) {
      const removed = await schedules.remove(argument.toLowerCase());
      if (!removed) throw new CliError(`No schedule ${argument}.`, 1);
      process.stdout.write(`Removed schedule ${argument.toLowerCase()}: it runs no more. Its thread's session and files are untouched.\n`);
      return 0;
    }
    const all = await schedules.list("all");
    const now = Date.now();
    if (argument === "--json") {
      process.stdout.write(`${JSON.stringify(all.map((schedule) => ({ ...schedule, nextAt: schedule.next === undefined ? null : new Date(schedule.next).toISOString() })), null, 2)}\n`);
    } else if (!all.length) {
      process.stdout.write("No schedules.\n");
    } else {
      process.stdout.write(`${all.map((schedule) => scheduleText(schedule, now)).join("\n")}\n`);
    }
    return 0;
  } finally {
    await schedules.close();
    redis.disconnect();
  }
}
