import { displayName, inlineCode } from "../core/display-text.js";
import type { ScheduleView } from "./schedule-record.js";
import { formatRunTime } from "./schedule-times.js";
import { hasSecondsField } from "./schedule-words.js";

export const SCHEDULE_USAGE =
  "Say when, a colon, then what: `schedule every monday at 09:00: weekly signups by channel, as a chart` " +
  "(or a ```python block to run as written after the colon).";

/**
 * The argument of `schedule <when>: <request>` split at its colon: the first one that is not part of
 * a time (09:00), so `every day at 09:00: report` is when "every day at 09:00", request "report".
 */
export function splitScheduleText(text: string): { when: string; request: string } | undefined {
  const match = /^([^\n]*?):(?!\d)\s*([\s\S]*)$/.exec(text.trim());
  const when = match?.[1]?.trim();
  const request = match?.[2]?.trim();
  return when && request ? { when, request } : undefined;
}

/** How long ago (or from now) a time is, in one short phrase: "in 3 min", "2 h ago", "in 6 days". */
export function relative(at: number, now: number): string {
  const minutes = Math.round((at - now) / 60_000);
  const size = Math.abs(minutes);
  const amount = size < 1 ? "under a minute" : size < 90 ? `${size} min` : size < 36 * 60 ? `${Math.round(size / 60)} h` : `${Math.round(size / 1440)} days`;
  return size < 1 ? (minutes >= 0 ? "in under a minute" : "just now") : minutes >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** A span of time in words, for intervals: "15 minutes", "1 minute", "4 seconds", "1.5 seconds". */
export function span(seconds: number): string {
  const [amount, unit] = seconds >= 60 && seconds % 60 === 0 ? [seconds / 60, "minute"] : [Math.round(seconds * 100) / 100, "second"];
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/** How a schedule stands, in words: its next run, or paused; and its last run. */
export function standing(schedule: ScheduleView, now: number): string {
  const next = schedule.paused
    ? `**paused**${schedule.failures ? ` after ${schedule.failures} failed runs in a row` : ""} (\`resume ${schedule.id}\`)`
    : schedule.next !== undefined
      ? `next ${formatRunTime(schedule.next, schedule.timeZone, hasSecondsField(schedule.cron))} (${relative(schedule.next, now)})`
      : "next run not known";
  const last = schedule.last ? `; last run ${schedule.last.outcome} ${relative(schedule.last.at, now)}` : "; not run yet";
  return `${next}${last}`;
}

/** One schedule as a line of `schedules`: id, when in words and as cron, request, creator, next run, last outcome. */
export function scheduleLine(schedule: ScheduleView, now: number): string {
  return (
    `- ${inlineCode(schedule.id)} ${displayName(schedule.words, 120)} (${inlineCode(schedule.cron)}, ${displayName(schedule.timeZone, 60)}) by ${displayName(schedule.creator.name, 60)}: ` +
    `${inlineCode(schedule.text, 80)}; ${standing(schedule, now)}`
  );
}

/** What a new schedule's confirmation says: its id, when in words and cron, the zone, its next three runs. */
export function confirmation(schedule: ScheduleView, nextThree: number[], note: string): string {
  const runs = nextThree.map((at) => formatRunTime(at, schedule.timeZone, hasSecondsField(schedule.cron))).join(", ");
  return [
    `Scheduled ${inlineCode(schedule.id)}: ${displayName(schedule.words, 120)} (${inlineCode(schedule.cron)}, times in ${displayName(schedule.timeZone, 60)}).`,
    `Next runs: ${runs}.`,
    `Each run is a turn of this thread, in its session, as ${displayName(schedule.creator.name, 60)} (your access, budget and data sources, checked at every run). ${note}` +
      `\`unschedule ${schedule.id}\` stops it; \`schedules\` lists this thread's.`,
  ].join("\n");
}
