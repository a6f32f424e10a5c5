import { CronExpressionParser } from "cron-parser";

/*
 * When a schedule runs: cron-parser 5 reading the 5-field expression (or 6, seconds first) in a
 * named time zone, each run the first match strictly after the one before. BullMQ's job scheduler
 * is handed the same computation (scheduleRepeatStrategy), so the times said in the thread are the times it fires:
 * its own default (cron-parser 4) runs a daily job twice on the eve of a spring-forward change.
 * Across daylight-saving changes: a wall-clock time that doesn't exist on the spring-forward day
 * (02:30 in Europe/Berlin on the last Sunday of March) runs an hour later that day (03:30); one
 * that happens twice on the fall-back day runs once, at its first; interval schedules (`every 15
 * minutes`, `every hour`) keep their spacing in real time. Pure: the current time comes from the caller.
 */

const parse = (cron: string, options: { currentDate?: Date; tz: string; endDate?: Date }) => CronExpressionParser.parse(cron, options);

/** The first run strictly after `after` (epoch ms), in the zone; undefined when it runs no more. BullMQ's RepeatStrategy for the schedules' queue. */
export function nextRun(cron: string, timeZone: string, after: number): number | undefined {
  const times = parse(cron, { currentDate: new Date(after), tz: timeZone });
  return times.hasNext() ? times.next().getTime() : undefined;
}

/** BullMQ's `settings.repeatStrategy` for the schedules' queue and worker: the next run as nextRun has it. */
export function scheduleRepeatStrategy(millis: number, options: { pattern?: string; tz?: string }): number | undefined {
  return options.pattern ? nextRun(options.pattern, options.tz ?? "UTC", millis) : undefined;
}

/** Whether cron-parser takes the expression (ranges, names, steps). */
export function isValidCron(cron: string): boolean {
  try {
    parse(cron, { tz: "UTC" });
    return true;
  } catch {
    return false;
  }
}

/** The next `count` runs strictly after `from` (epoch ms), in the zone's wall-clock time; fewer if it runs no more. */
export function nextRuns(cron: string, timeZone: string, from: number, count: number): number[] {
  const times = parse(cron, { currentDate: new Date(from), tz: timeZone });
  const runs: number[] = [];
  for (let i = 0; i < count && times.hasNext(); i++) runs.push(times.next().getTime());
  return runs;
}

/** Occurrences looked at for the closest pair, and the span of time at most (the expression's pattern repeats well within both). */
const SCAN_RUNS = 500;
const SCAN_MS = 400 * 24 * 3600 * 1000;

export type IntervalCheck = { ok: true } | { ok: false; never: true } | { ok: false; never: false; gapSeconds: number };

/**
 * Whether two runs of the expression ever come closer than minMinutes, a fraction of a minute too
 * (a 6-field expression, seconds first, may run seconds apart; in real time, daylight-saving
 * changes included), looking at its next runs from `from` (up to 500, over at most 400 days: a fifth of a second at most; 500 runs of `every 15 minutes` span five days, more than the daily cycle of any pattern that runs that often);
 * never: it doesn't run at all in that span (`0 0 30 2 *`).
 */
export function checkInterval(cron: string, timeZone: string, minMinutes: number, from: number): IntervalCheck {
  let times;
  try {
    times = parse(cron, { currentDate: new Date(from), tz: timeZone, endDate: new Date(from + SCAN_MS) });
  } catch {
    return { ok: false, never: true };
  }
  let previous: number | undefined;
  let runs = 0;
  while (runs < SCAN_RUNS && times.hasNext()) {
    const at = times.next().getTime();
    runs++;
    if (previous !== undefined && at - previous < minMinutes * 60_000) return { ok: false, never: false, gapSeconds: (at - previous) / 1000 };
    previous = at;
  }
  return runs ? { ok: true } : { ok: false, never: true };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** A run's time as people read it in the zone: "Mon 2025-03-31 09:00", with seconds "Mon 2025-03-31 09:00:30" (a schedule with a seconds field). */
export function formatRunTime(at: number, timeZone: string, seconds = false): string {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    formats.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(at)).map((entry) => [entry.type, entry.value]));
  return `${part.weekday} ${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}${seconds ? `:${part.second}` : ""}`;
}
