import type { BudgetUse } from "../budget/budget-use.js";
import type { HistoryDay, SubjectHistory, UsageHistory } from "../budget/usage-history.js";
import { displayName } from "../core/display-text.js";
import type { Section } from "./admin-data.js";
import { count, html, seconds, table, type SafeHtml } from "./admin-html.js";

/*
 * "Usage over time": per day, and the top users and channels day by day. No script and no style
 * attribute (the CSP forbids both): a bar's length is one of the stylesheet's width classes.
 */

/** Bars are drawn in steps of this many percent (the stylesheet has a `.bar > .wN` rule per step). */
export const BAR_STEP = 2;

/** The width class of a bar for `value` out of `max`: w0 for nothing, at least one step for anything. */
export function barClass(value: number, max: number): string {
  if (!(max > 0) || !(value > 0)) return "w0";
  const percent = Math.round((value / max) * (100 / BAR_STEP)) * BAR_STEP;
  return `w${Math.min(100, Math.max(BAR_STEP, percent))}`;
}

/** Tokens in a few characters: 950, 12.3k, 4.5M. */
export function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1000) return String(Math.round(value));
  const [divisor, unit] = abs < 1e6 ? [1e3, "k"] : abs < 1e9 ? [1e6, "M"] : [1e9, "G"];
  const scaled = value / divisor;
  return `${scaled < 100 ? scaled.toFixed(1).replace(/\.0$/, "") : Math.round(scaled)}${unit}`;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `2025-01-31` as `Fri Jan 31` (the calendar date's own weekday). */
function dayLabel(date: string): { weekday: string; short: string } {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return { weekday: WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] ?? "", short: `${MONTHS[month - 1] ?? ""} ${day}` };
}

const bar = (value: number, max: number, kind: "tokens" | "exec") => html`<span class="bar ${kind}"><span class="${barClass(value, max)}"></span></span>`;
const unavailable = (section: { ok: false; reason: string }) => html`<p class="warn">Unavailable: ${section.reason}.</p>`;

/** The days, newest first, each with its bars against the busiest day shown. */
function daysTable(days: HistoryDay[]): SafeHtml {
  const maxTokens = Math.max(0, ...days.map((day) => day.tokens));
  const maxExec = Math.max(0, ...days.map((day) => day.execSeconds));
  const rows = [...days].reverse().map((day, i) => {
    const { weekday, short } = dayLabel(day.date);
    return html`<tr class="${i === 0 ? "today" : ""}"><td class="nowrap"><time datetime="${day.date}">${weekday} ${short}</time>${i === 0 ? html` <small>today</small>` : ""}</td>
<td class="num">${count(day.tokens)}</td><td class="barcell">${bar(day.tokens, maxTokens, "tokens")}</td>
<td class="num">${seconds(day.execSeconds)}</td><td class="barcell">${bar(day.execSeconds, maxExec, "exec")}</td>
<td class="num">${day.users}</td><td class="num">${day.channels}</td></tr>`;
  });
  return table(["Day", "Tokens", "", "Execution", "", "Active users", "Active channels"], rows, "No days.");
}

/** One subject's day: tokens over seconds, the exact figures in the tooltip; a dot for nothing. */
function dayCell(use: BudgetUse, date: string): SafeHtml {
  if (!use.tokens && !use.execSeconds) return html`<td class="num zero">·</td>`;
  return html`<td class="num" title="${date}: ${count(use.tokens)} tokens, ${seconds(use.execSeconds)} of execution">${compact(use.tokens)}<small>${seconds(use.execSeconds)}</small></td>`;
}

/** The top subjects of a kind, one column per day (oldest to today), with their totals. */
function subjectsTable(who: string, subjects: SubjectHistory[], days: HistoryDay[]): SafeHtml {
  const headers = [who, "Tokens", "Execution", ...days.map((day, i) => (i === days.length - 1 ? "Today" : dayLabel(day.date).short))];
  const rows = subjects.map(
    (subject) => html`<tr><td class="id">${displayName(subject.id, 200)}</td><td class="num">${count(subject.total.tokens)}</td><td class="num">${seconds(subject.total.execSeconds)}</td>
${subject.days.map((use, i) => dayCell(use, days[i]?.date ?? ""))}</tr>`,
  );
  return html`<div class="matrix">${table(headers, rows, `Nothing counted in the last ${days.length} days.`)}</div>`;
}

/** The section: days in the budgets' time zone, from the usage counters kept USAGE_HISTORY_DAYS. */
export function historySection(section: Section<UsageHistory>, historyDays: number): SafeHtml {
  if (!section.ok) return unavailable(section);
  const { days, users, channels, timeZone } = section.value;
  return html`<p>The last ${days.length} days in ${timeZone}, counted whether or not a budget is set (tokens: prompt and completion; execution: seconds of code run in the sandbox). Each day is kept ${count(historyDays)} day${historyDays === 1 ? "" : "s"}.</p>
<h3>Per day</h3>${daysTable(days)}
<h3>Top users, last ${days.length} days</h3>${subjectsTable("User", users, days)}
<h3>Top channels, last ${days.length} days</h3>${subjectsTable("Channel", channels, days)}`;
}
