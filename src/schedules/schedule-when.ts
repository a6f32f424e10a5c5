import { inlineCode } from "../core/display-text.js";
import { describeCron, DAY_NAMES } from "./schedule-words.js";

/**
 * A schedule's `<when>`, read from what a person typed: a 5-field cron expression (`0 9 * * 1`), a
 * 6-field one with a seconds field first (`30 0 9 * * 1`), or one of a few phrases (`every 15
 * minutes`, `every 10 seconds`, `every hour`, `every day at 09:00`, `every monday at 08:30`, `every
 * weekday at 9:00`, `on the 1st of every month at 07:00`). Pure: no clock, no zone
 * (the times are the zone's wall-clock times; schedule-times.ts computes the runs).
 */
export interface When {
  /**
   * Five fields: minute hour day-of-month month day-of-week, as BullMQ's job scheduler (cron-parser)
   * reads them; or six, a seconds field first (taken only where SCHEDULE_MIN_INTERVAL_MINUTES allows
   * runs under a minute apart: schedule-times.ts checks the interval).
   */
  cron: string;
  /** In words, the same for a phrase and for the cron it stands for: "every Monday at 09:00". */
  words: string;
}

export type WhenResult = { ok: true; when: When } | { ok: false; reason: string };

/** Longest `<when>` read (a cron line or a phrase is far shorter). */
const MAX_WHEN_CHARS = 200;
/** A cron field: numbers, names (MON, JAN), `*`, `/`, `,`, `-`; no macro. */
const CRON_FIELD = /^[0-9A-Za-z*/,-]+$/;

export const WHEN_HELP =
  "a 5-field cron expression (`0 9 * * 1`, or 6 fields with seconds first) or a phrase: `every 15 minutes`, `every hour`, `every day at 09:00`, `every monday at 08:30`, " +
  "`every weekday at 9:00`, `on the 1st of every month at 07:00`";

const refuse = (reason: string): WhenResult => ({ ok: false, reason });
const made = (cron: string): WhenResult => ({ ok: true, when: { cron, words: describeCron(cron) } });

/** A time of day: `9`, `09:00`, `9:30`, `9am`, `5:30 pm`, `noon`, `midnight`; undefined when it isn't one. */
export function timeOfDay(text: string): { hour: number; minute: number } | undefined {
  const spoken = text.trim().toLowerCase();
  if (spoken === "noon") return { hour: 12, minute: 0 };
  if (spoken === "midnight") return { hour: 0, minute: 0 };
  const match = /^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(spoken);
  if (!match) return undefined;
  let hour = Number(match[1]);
  const minute = Number(match[2] ?? "0");
  const half = match[3]?.replace(/\./g, "");
  if (half) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half === "pm" ? 12 : 0);
  }
  return hour <= 23 && minute <= 59 ? { hour, minute } : undefined;
}

/** The day numbers (0 Sunday … 6 Saturday) of "monday", "mondays", "mon", "monday, wednesday and friday". */
function dayList(text: string): number[] | undefined {
  const names = text.split(/\s*(?:,|\band\b|&)\s*/).filter(Boolean);
  const days = names.map((name) => DAY_NAMES.findIndex((day) => [day.toLowerCase(), `${day.toLowerCase()}s`, day.toLowerCase().slice(0, 3)].includes(name)));
  if (!days.length || days.some((day) => day < 0)) return undefined;
  return [...new Set(days)].sort((a, b) => a - b);
}

/** What "every N <unit>" steps through, the cron of each N, and the Ns that divide it evenly. */
const UNITS = {
  second: { whole: 60, of: "minute", fits: "1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30", one: "* * * * * *", step: (n: number) => `*/${n} * * * * *`, all: "0 * * * * *" },
  minute: { whole: 60, of: "hour", fits: "1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30", one: "* * * * *", step: (n: number) => `*/${n} * * * *`, all: "0 * * * *" },
  hour: { whole: 24, of: "day", fits: "1, 2, 3, 4, 6, 8 or 12", one: "0 * * * *", step: (n: number) => `0 */${n} * * *`, all: "0 0 * * *" },
};

/** "every N seconds" / "every N minutes" / "every N hours": N must divide the minute (hour, day), or the runs would bunch at its turn. */
function everyUnits(count: number, unit: string): WhenResult {
  const { whole, of, fits, one, step, all } = UNITS[unit.replace(/s$/, "") as keyof typeof UNITS];
  if (!Number.isInteger(count) || count < 1 || count > whole) return refuse(`every ${count} ${unit}: the number must be between 1 and ${whole}`);
  if (count === whole) return made(all);
  if (whole % count !== 0) return refuse(`every ${count} ${unit} can't be kept evenly (the ${of} doesn't divide by ${count}): use ${fits}, or a cron expression`);
  return made(count === 1 ? one : step(count));
}

/** The phrases: undefined when the text is none of them (it may still be a cron expression). */
function phrase(text: string): WhenResult | undefined {
  const spoken = text.toLowerCase().replace(/\s+/g, " ").trim();
  if (spoken === "every minute") return made("* * * * *");
  if (spoken === "every second") return made("* * * * * *");
  if (spoken === "every hour" || spoken === "hourly") return made("0 * * * *");
  const units = /^every (\d{1,3}) (seconds?|minutes?|hours?)$/.exec(spoken);
  if (units) return everyUnits(Number(units[1]), units[2]!);
  const timed = /^(.*?) at (.+)$/.exec(spoken);
  const monthly = /^(?:on the (\d{1,2})(?:st|nd|rd|th)? of every month|every month on the (\d{1,2})(?:st|nd|rd|th)?)$/.exec(timed?.[1] ?? spoken);
  const daily = /^(?:every day|daily|every weekday|every (.+))$/.exec(timed?.[1] ?? spoken);
  if (!monthly && !daily) return undefined;
  if (!monthly && daily?.[1] && !dayList(daily[1])) return undefined;
  if (!timed) return refuse(`${inlineCode(text.trim())} needs a time of day: add one, as in ${inlineCode(`${spoken} at 09:00`)}`);
  const time = timeOfDay(timed[2]!);
  if (!time) return refuse(`${inlineCode(timed[2]!)} is not a time of day: write it as 09:00, 9:30 or 5pm`);
  const at = `${time.minute} ${time.hour}`;
  if (monthly) {
    const day = Number(monthly[1] ?? monthly[2]);
    if (day < 1 || day > 31) return refuse(`there is no day ${day} in a month`);
    return made(`${at} ${day} * *`);
  }
  if (timed[1] === "every weekday") return made(`${at} * * 1-5`);
  if (!daily![1]) return made(`${at} * * *`);
  return made(`${at} * * ${dayList(daily![1])!.join(",")}`);
}

/**
 * The `<when>` of `schedule <when>: <request>` as a cron expression and words, or why it can't be
 * read. cron-parser checks the expression's ranges; whether it runs too often (or never) is for
 * schedule-times.ts, which knows the time zone.
 */
export function parseWhen(text: string, validCron: (cron: string) => boolean): WhenResult {
  if (text.length > MAX_WHEN_CHARS) return refuse(`the time is longer than ${MAX_WHEN_CHARS} characters`);
  const spoken = phrase(text);
  if (spoken) return spoken;
  const fields = text.trim().split(/\s+/);
  if ((fields.length === 5 || fields.length === 6) && fields.every((field) => CRON_FIELD.test(field))) {
    const cron = fields.join(" ");
    return validCron(cron) ? made(cron) : refuse(`${inlineCode(cron)} is not a valid cron expression`);
  }
  return refuse(`I can't read ${inlineCode(text.trim(), 80)} as a time: use ${WHEN_HELP}`);
}
