/** Day names by cron's day-of-week number (0 and 7 are both Sunday). */
export const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

const NUMBER = /^\d{1,2}$/;

const pad = (value: number) => String(value).padStart(2, "0");

/** 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd, 31st. */
export function ordinal(day: number): string {
  const teen = day % 100 >= 11 && day % 100 <= 13;
  const suffix = teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[day % 10] ?? "th";
  return `${day}${suffix}`;
}

/** "Monday", "Monday and Friday", "Monday, Wednesday and Friday". */
function listed(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** A day-of-week field of plain numbers (`1`, `1,3,5`) as day names; undefined for anything else. */
function dayNames(field: string): string[] | undefined {
  const parts = field.split(",");
  if (!parts.every((part) => /^[0-7]$/.test(part))) return undefined;
  const days = [...new Set(parts.map((part) => Number(part) % 7))].sort((a, b) => a - b);
  return days.map((day) => DAY_NAMES[day]!);
}

/** Whether a cron expression has the optional seconds field (six fields, seconds first, as cron-parser reads them). */
export function hasSecondsField(cron: string): boolean {
  return cron.trim().split(/\s+/).length === 6;
}

/**
 * A 6-field expression in words: at second 0 it says what its five other fields say ("every
 * Monday at 09:00"); a seconds field of `*` or a step of N (N dividing the minute), the others
 * all `*`, is "every second" or "every N seconds"; anything else is named as the cron it is.
 */
function describeWithSeconds([second, ...rest]: string[], cron: string): string {
  if (second === "0") return describeCron(rest.join(" ")).replace(/^cron .*/, `cron ${cron}`);
  if (rest.every((field) => field === "*")) {
    if (second === "*") return "every second";
    const every = /^\*\/(\d{1,2})$/.exec(second!);
    if (every && 60 % Number(every[1]) === 0) return Number(every[1]) === 1 ? "every second" : `every ${Number(every[1])} seconds`;
  }
  return `cron ${cron}`;
}

/**
 * A cron expression in words, for the shapes the phrases make ("every 15 minutes", "every day at
 * 09:00", "every Monday at 08:30", "every weekday at 09:00", "on the 1st of every month at 07:00");
 * anything else is named as the cron it is ("cron 5 4 * * 0"). Times are the zone's wall clock. A
 * 6-field expression (seconds first) is read by describeWithSeconds.
 */
export function describeCron(cron: string): string {
  const fields = cron.split(" ");
  if (fields.length === 6) return describeWithSeconds(fields, cron);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  const anyDay = dayOfMonth === "*" && month === "*";
  if (anyDay && dayOfWeek === "*" && hour === "*") {
    if (minute === "*") return "every minute";
    const every = /^\*\/(\d{1,2})$/.exec(minute);
    if (every && 60 % Number(every[1]) === 0) return Number(every[1]) === 1 ? "every minute" : `every ${Number(every[1])} minutes`;
    if (NUMBER.test(minute)) return Number(minute) === 0 ? "every hour" : `every hour at ${pad(Number(minute))} past`;
  }
  const hours = /^\*\/(\d{1,2})$/.exec(hour);
  if (anyDay && dayOfWeek === "*" && minute === "0" && hours && 24 % Number(hours[1]) === 0) return Number(hours[1]) === 1 ? "every hour" : `every ${Number(hours[1])} hours`;
  if (!NUMBER.test(minute) || !NUMBER.test(hour)) return `cron ${cron}`;
  const at = `at ${pad(Number(hour))}:${pad(Number(minute))}`;
  if (anyDay && dayOfWeek === "*") return `every day ${at}`;
  if (anyDay && dayOfWeek === "1-5") return `every weekday ${at}`;
  const days = anyDay ? dayNames(dayOfWeek) : undefined;
  if (days) return `every ${listed(days)} ${at}`;
  if (NUMBER.test(dayOfMonth) && month === "*" && dayOfWeek === "*") return `on the ${ordinal(Number(dayOfMonth))} of every month ${at}`;
  return `cron ${cron}`;
}
