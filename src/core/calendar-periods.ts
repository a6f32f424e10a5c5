/**
 * The periods budgets and the export quota count in: the calendar day and the calendar month in one time zone (UTC
 * unless BUDGET_TIMEZONE says otherwise). Pure: the time comes from the caller (an injectable
 * clock), so tests can stand at 23:59:59 and step over midnight.
 */

/** Milliseconds since the epoch, now; `Date.now` unless a test injects another. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export type PeriodKind = "day" | "month";
export const PERIOD_KINDS: readonly PeriodKind[] = ["day", "month"];

export interface BudgetPeriod {
  kind: PeriodKind;
  /** Names the period in Redis keys: `day:2025-01-31`, `month:2025-01` (the zone's calendar). */
  key: string;
  startsAt: number;
  /** When the next period starts: the budget's reset time. */
  endsAt: number;
}

export type BudgetPeriods = Record<PeriodKind, BudgetPeriod>;

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone (building one is slow); throws a RangeError for a zone Intl doesn't know. */
function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formats.set(timeZone, format);
  }
  return format;
}

/** Whether Intl knows the zone (an IANA name such as Europe/Paris, or UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatIn(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in the zone at `at`, read back as if it were UTC (whole seconds). */
function wallClockAsUtc(at: number, timeZone: string): number {
  const parts = Object.fromEntries(formatIn(timeZone).formatToParts(new Date(at)).map((part) => [part.type, Number(part.value)]));
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

function localDate(at: number, timeZone: string): LocalDate {
  const wall = new Date(wallClockAsUtc(at, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/**
 * When the zone's clocks show 00:00 on a date (month and day may overflow: Date.UTC normalises).
 * The zone's offset is found at a first guess and checked once more, which settles DST changes;
 * on the rare date whose midnight a DST jump skips, this is the first instant of that date.
 */
function midnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  if (timeZone === "UTC") return wall;
  const offset = (at: number) => wallClockAsUtc(at, timeZone) - Math.floor(at / 1000) * 1000;
  const first = wall - offset(wall);
  const second = wall - offset(first);
  return second === first ? first : Math.min(first, second);
}

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** The day and the month `at` falls in, in the zone, and when each resets. */
export function periodsAt(at: number, timeZone = "UTC"): BudgetPeriods {
  const { year, month, day } = localDate(at, timeZone);
  return {
    day: { kind: "day", key: `day:${year}-${pad(month)}-${pad(day)}`, startsAt: midnight(year, month, day, timeZone), endsAt: midnight(year, month, day + 1, timeZone) },
    month: { kind: "month", key: `month:${year}-${pad(month)}`, startsAt: midnight(year, month, 1, timeZone), endsAt: midnight(year, month + 1, 1, timeZone) },
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A reset time as people read it: `00:00 UTC`, or `00:00 UTC on Feb 1` when it isn't the next day's. */
export function resetTimeText(period: BudgetPeriod, timeZone = "UTC"): string {
  const wall = new Date(wallClockAsUtc(period.endsAt, timeZone));
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())} ${timeZone}`;
  return period.kind === "day" ? time : `${time} on ${MONTHS[wall.getUTCMonth()]} ${wall.getUTCDate()}`;
}

/** How long until then, roughly: `less than a minute`, `12 min`, `3 h 12 min`, `5 days 3 h`. */
export function durationText(ms: number): string {
  const minutes = Math.ceil(Math.max(0, ms) / 60_000);
  if (ms < 60_000) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  const dayWord = days === 1 ? "day" : "days";
  return hours % 24 ? `${days} ${dayWord} ${hours % 24} h` : `${days} ${dayWord}`;
}
