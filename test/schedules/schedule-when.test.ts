import { describe, expect, test } from "vitest";
import { scheduleCommand } from "../../src/bot/text-commands.js";
import { splitScheduleText } from "../../src/schedules/schedule-text.js";
import { loadConfig } from "../../src/config.js";
import { span } from "../../src/schedules/schedule-text.js";
import { checkInterval, formatRunTime, isValidCron, nextRuns, scheduleRepeatStrategy } from "../../src/schedules/schedule-times.js";
import { parseWhen } from "../../src/schedules/schedule-when.js";

const BERLIN = "Europe/Berlin";
const when = (text: string) => parseWhen(text, isValidCron);
const iso = (times: number[]) => times.map((at) => new Date(at).toISOString());
/** What a `<when>` is read as: its cron and words, or the reason it is refused. */
const read = (text: string) => {
  const parsed = when(text);
  return parsed.ok ? parsed.when : parsed.reason;
};
const reason = (text: string) => {
  const parsed = when(text);
  return parsed.ok ? "accepted" : parsed.reason;
};

describe("a schedule's <when>", () => {
  test("each phrase of the issue, and a cron expression, read as cron and words", () => {
    expect(read("every 15 minutes")).toEqual({ cron: "*/15 * * * *", words: "every 15 minutes" });
    expect(read("every hour")).toEqual({ cron: "0 * * * *", words: "every hour" });
    expect(read("every day at 09:00")).toEqual({ cron: "0 9 * * *", words: "every day at 09:00" });
    expect(read("every monday at 08:30")).toEqual({ cron: "30 8 * * 1", words: "every Monday at 08:30" });
    expect(read("every weekday at 9:00")).toEqual({ cron: "0 9 * * 1-5", words: "every weekday at 09:00" });
    expect(read("on the 1st of every month at 07:00")).toEqual({ cron: "0 7 1 * *", words: "on the 1st of every month at 07:00" });
    expect(read("0 9 * * 1")).toEqual({ cron: "0 9 * * 1", words: "every Monday at 09:00" });
    expect(read("every minute")).toEqual({ cron: "* * * * *", words: "every minute" });
  });

  test("what can't be read is refused with the reason", () => {
    expect(reason("61 * * * *")).toMatch(/not a valid cron expression/);
    expect(reason("61 * * * * *")).toMatch(/not a valid cron expression/);
    expect(reason("0 0 9 * * * *")).toMatch(/can't read .* as a time/);
    expect(reason("every 7 seconds")).toMatch(/can't be kept evenly \(the minute doesn't divide by 7\): use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30/);
    expect(reason("every 0 seconds")).toMatch(/between 1 and 60/);
    expect(reason("every 7 minutes")).toMatch(/can't be kept evenly/);
    expect(reason("every tuesday")).toMatch(/needs a time of day/);
    expect(reason("every day at 25:00")).toMatch(/not a time of day/);
    expect(reason("whenever you like")).toMatch(/can't read .* as a time/);
  });

  test("a 6-field cron expression, seconds first, and the phrases in seconds: read as cron and words", () => {
    // [typed, cron, words]: at second 0, the words of its five other fields; any other second, the cron it is.
    const cases = [
      ["*/4 * * * * *", "*/4 * * * * *", "every 4 seconds"],
      ["* * * * * *", "* * * * * *", "every second"],
      ["every 10 seconds", "*/10 * * * * *", "every 10 seconds"],
      ["every second", "* * * * * *", "every second"],
      ["every 60 seconds", "0 * * * * *", "every minute"],
      ["0 0 9 * * 1", "0 0 9 * * 1", "every Monday at 09:00"],
      ["0 */15 * * * *", "0 */15 * * * *", "every 15 minutes"],
      ["30 0 9 * * 1", "30 0 9 * * 1", "cron 30 0 9 * * 1"],
      ["0 5 4 * * 0-3", "0 5 4 * * 0-3", "cron 0 5 4 * * 0-3"],
      ["*/7 * * * * *", "*/7 * * * * *", "cron */7 * * * * *"],
      ["  */4   * * * * *  ", "*/4 * * * * *", "every 4 seconds"],
    ];
    expect(cases.map(([typed]) => read(typed!))).toEqual(cases.map(([, cron, words]) => ({ cron, words })));
  });

  test("a seconds field is held to SCHEDULE_MIN_INTERVAL_MINUTES like the rest: refused at whole minutes, taken at a fraction", () => {
    const from = Date.parse("2026-03-01T00:00:00Z");
    expect(checkInterval("*/4 * * * * *", BERLIN, 15, from)).toEqual({ ok: false, never: false, gapSeconds: 4 });
    expect(checkInterval("*/4 * * * * *", BERLIN, 1, from)).toEqual({ ok: false, never: false, gapSeconds: 4 });
    expect(checkInterval("*/4 * * * * *", BERLIN, 0.05, from)).toEqual({ ok: true });
    expect(checkInterval("* * * * * *", BERLIN, 0.05, from)).toEqual({ ok: false, never: false, gapSeconds: 1 });
    // Uneven seconds: the closest pair counts (58 s, then 2 s across the minute's turn).
    expect(checkInterval("0,58 * * * * *", BERLIN, 0.5, from)).toEqual({ ok: false, never: false, gapSeconds: 2 });
    // Six fields running no more often than the minimum are taken at the default.
    expect(checkInterval("0 0 9 * * 1", BERLIN, 15, from)).toEqual({ ok: true });
    expect(checkInterval("30 */15 * * * *", BERLIN, 15, from)).toEqual({ ok: true });
    expect(checkInterval("0 0 0 30 2 *", BERLIN, 15, from)).toEqual({ ok: false, never: true });
    // Each run on its second, strictly after the one before; BullMQ's repeat strategy computes the same.
    expect(iso(nextRuns("*/4 * * * * *", BERLIN, Date.parse("2026-03-01T00:00:58.500Z"), 3))).toEqual(["2026-03-01T00:01:00.000Z", "2026-03-01T00:01:04.000Z", "2026-03-01T00:01:08.000Z"]);
    expect(scheduleRepeatStrategy(Date.parse("2026-03-01T00:01:04Z"), { pattern: "*/4 * * * * *", tz: BERLIN })).toBe(Date.parse("2026-03-01T00:01:08Z"));
    expect(formatRunTime(Date.parse("2026-03-01T00:01:04Z"), BERLIN, true)).toBe("Sun 2026-03-01 01:01:04");
    expect(formatRunTime(Date.parse("2026-03-01T00:01:04Z"), BERLIN)).toBe("Sun 2026-03-01 01:01");
    expect([span(4), span(60), span(900), span(1), span(1.5), span(90)]).toEqual(["4 seconds", "1 minute", "15 minutes", "1 second", "1.5 seconds", "90 seconds"]);
  });

  test("SCHEDULE_MIN_INTERVAL_MINUTES takes a fraction of a minute, down to one second", () => {
    expect(loadConfig({}).SCHEDULE_MIN_INTERVAL_MINUTES).toBe(15);
    expect(loadConfig({ SCHEDULE_MIN_INTERVAL_MINUTES: "0.05" }).SCHEDULE_MIN_INTERVAL_MINUTES).toBe(0.05);
    expect(loadConfig({ SCHEDULE_MIN_INTERVAL_MINUTES: "2" }).SCHEDULE_MIN_INTERVAL_MINUTES).toBe(2);
    for (const bad of ["0", "0.01", "-1", "soon", "20000"]) expect(() => loadConfig({ SCHEDULE_MIN_INTERVAL_MINUTES: bad }), bad).toThrow(/SCHEDULE_MIN_INTERVAL_MINUTES/);
  });

  test("an interval under the minimum, and an expression that never comes round, are caught", () => {
    const from = Date.parse("2026-03-01T00:00:00Z");
    expect(checkInterval("*/5 * * * *", BERLIN, 15, from)).toEqual({ ok: false, never: false, gapSeconds: 300 });
    expect(checkInterval("*/15 * * * *", BERLIN, 15, from)).toEqual({ ok: true });
    expect(checkInterval("0 9 * * 1", BERLIN, 15, from)).toEqual({ ok: true });
    // Through the fall-back change, every hour keeps an hour between runs in real time.
    expect(checkInterval("0 * * * *", BERLIN, 60, Date.parse("2026-10-24T00:00:00Z"))).toEqual({ ok: true });
    expect(when("0 0 30 2 *").ok).toBe(false);
  });

  test("next times across the spring-forward change in Europe/Berlin (29 March 2026)", () => {
    // 02:30 doesn't exist on the 29th: it runs at 03:30 that day, and once on the eve (cron-parser 4, BullMQ's default, ran it twice).
    expect(iso(nextRuns("30 2 * * *", BERLIN, Date.parse("2026-03-27T12:00:00Z"), 4))).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ]);
    // Every Monday at 08:30, wall clock: 07:30 UTC before the change, 06:30 after.
    expect(iso(nextRuns("30 8 * * 1", BERLIN, Date.parse("2026-03-20T00:00:00Z"), 2))).toEqual(["2026-03-23T07:30:00.000Z", "2026-03-30T06:30:00.000Z"]);
    // Every 15 minutes keeps its spacing through the missing hour.
    expect(iso(nextRuns("*/15 * * * *", BERLIN, Date.parse("2026-03-29T00:50:00Z"), 3))).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-29T01:15:00.000Z", "2026-03-29T01:30:00.000Z"]);
  });

  test("next times across the fall-back change (25 October 2026)", () => {
    // 02:30 happens twice: it runs once, at the first.
    expect(iso(nextRuns("30 2 * * *", BERLIN, Date.parse("2026-10-23T12:00:00Z"), 3))).toEqual(["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    // Every hour: one run per real hour, both 02:00s included.
    expect(iso(nextRuns("0 * * * *", BERLIN, Date.parse("2026-10-24T23:30:00Z"), 3))).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T02:00:00.000Z"]);
    // On the 1st of every month at 07:00: 06:00 UTC in winter, 05:00 in summer.
    expect(iso(nextRuns("0 7 1 * *", BERLIN, Date.parse("2026-02-15T00:00:00Z"), 2))).toEqual(["2026-03-01T06:00:00.000Z", "2026-04-01T05:00:00.000Z"]);
  });

  test("BullMQ's job scheduler is handed the same computation, strictly after the run it follows", () => {
    const due = Date.parse("2026-03-28T01:30:00Z");
    expect(scheduleRepeatStrategy(due, { pattern: "30 2 * * *", tz: BERLIN })).toBe(Date.parse("2026-03-29T01:30:00Z"));
  });
});

describe("the schedule commands' words", () => {
  test("schedule, schedules, unschedule and resume are commands; other sentences stay questions", () => {
    expect(scheduleCommand("schedule every day at 09:00: report")).toEqual({ kind: "schedule", text: "every day at 09:00: report" });
    expect(scheduleCommand("schedules")).toEqual({ kind: "schedules", text: "" });
    expect(scheduleCommand("/unschedule k7m2qz")).toEqual({ kind: "unschedule", text: "k7m2qz" });
    expect(scheduleCommand("resume k7m2qz")).toEqual({ kind: "resume", text: "k7m2qz" });
    expect(scheduleCommand("resume the analysis where we left it")).toBeUndefined();
    expect(scheduleCommand("what schedules do the trains keep?")).toBeUndefined();
  });

  test("the request is split from <when> at the first colon that isn't a time's", () => {
    expect(splitScheduleText("every day at 09:00: weekly signups: by channel")).toEqual({ when: "every day at 09:00", request: "weekly signups: by channel" });
    expect(splitScheduleText("0 9 * * 1: report")).toEqual({ when: "0 9 * * 1", request: "report" });
    expect(splitScheduleText("*/4 * * * * *: report")).toEqual({ when: "*/4 * * * * *", request: "report" });
    expect(splitScheduleText("every monday at 9:30")).toBeUndefined();
  });
});
