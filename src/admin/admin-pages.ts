import type { BudgetReportRow } from "../budget/budget-report.js";
import type { BudgetLimits } from "../budget/budget-policy.js";
import { displayName } from "../core/display-text.js";
import type { FailureEntry } from "../ops/failure-log.js";
import { REDIS_MEMORY_WARN_SHARE, type RedisMemory } from "../ops/redis-memory.js";
import type { DirectoryRow, SessionDirectory } from "../ops/session-directory.js";
import { sizeText } from "../ops/session-rows.js";
import type { Overview, Section, UserTotal } from "./admin-data.js";
import { ago, count, html, page, seconds, table, type SafeHtml } from "./admin-html.js";
import { historySection } from "./admin-usage-page.js";
import { sourcesSection } from "./admin-sources.js";
import { removedBanner, schedulesSection, type RemovedFlash } from "./admin-schedules.js";

/** What the page says after a kill button was pressed (from the redirect's query). */
export interface KillFlash {
  sessionId: string;
  /** Workers that heard the request. */
  heard: number;
}

const text = (value: string, max = 200) => displayName(value, max);
const unavailable = (section: { ok: false; reason: string }) => html`<p class="warn">Unavailable: ${section.reason}.</p>`;

function killForm(row: DirectoryRow, csrf: string): SafeHtml {
  const what = row.state === "running" ? "End the session and delete its saved files" : "Delete its saved files and variables";
  return html`<details class="kill"><summary>Kill…</summary><form method="post" action="/admin/sessions/kill">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="sessionId" value="${row.sessionId}">
<button type="submit">${what}</button></form></details>`;
}

function sessionsSection(section: Section<SessionDirectory>, csrf: string, now: number): SafeHtml {
  if (!section.ok) return unavailable(section);
  const { sessions, workers, oldestAt, omitted } = section.value;
  const running = sessions.filter((row) => row.state === "running").length;
  const rows = sessions.map(
    (row) => html`<tr>
<td class="id">${text(row.sessionId)}</td>
<td><span class="state ${row.state}">${row.state}</span>${row.status ? html` <small>${text(row.status, 60)}</small>` : ""}</td>
<td>${row.host ? text(row.host, 60) : "-"}</td><td class="num">${row.files ?? "-"}</td><td class="num">${sizeText(row.bytes)}</td>
<td>${ago(row.lastUsedAt ?? row.createdAt, now)}</td><td>${ago(row.createdAt, now)}</td><td>${ago(row.deletedAfter, now)}</td>
<td>${killForm(row, csrf)}</td></tr>`,
  );
  const seen = workers ? html`as ${workers} worker${workers === 1 ? "" : "s"} reported them, ${ago(oldestAt, now)} at the oldest` : html`<span class="warn">no worker has reported in the last 30 s</span>`;
  return html`<p>${running} running, ${sessions.length - running} sleeping; ${seen}.${omitted ? ` ${omitted} more not shown (\`codebot sessions list\` has them all).` : ""}</p>
${table(["Session", "State", "Host", "Files", "Size", "Last used", "Started", "Deleted after", ""], rows, "No sessions.")}`;
}

const tokens = (value: number) => count(value);
const used = (value: number, limit: number, format: (value: number) => string) =>
  html`<span class="${limit > 0 && value >= limit ? "over" : ""}">${format(value)}</span>${limit > 0 ? html` <small>of ${format(limit)}</small>` : ""}`;

function budgetRows(rows: BudgetReportRow[], limits: BudgetLimits): SafeHtml[] {
  return rows.map(
    (row) => html`<tr><td class="id">${text(row.id)}</td>
<td class="num">${used(row.day.tokens, limits.day.tokens, tokens)}</td><td class="num">${used(row.day.execSeconds, limits.day.execSeconds, seconds)}</td>
<td class="num">${used(row.month.tokens, limits.month.tokens, tokens)}</td><td class="num">${used(row.month.execSeconds, limits.month.execSeconds, seconds)}</td>
<td class="num">${row.share > 0 ? `${Math.round(row.share * 100)}%` : "-"}</td></tr>`,
  );
}

function usageSection(overview: Overview): SafeHtml {
  const { budgets, budgetsOn, totals, now } = overview;
  const headers = ["Tokens today", "Exec today", "Tokens this month", "Exec this month", "Nearest limit"];
  const periodic = !budgets.ok
    ? unavailable(budgets)
    : html`${budgetsOn ? "" : html`<p class="note">No BUDGET_* limit is set: usage is counted, nothing is refused.</p>`}
<p>Days and months in ${budgets.value.timeZone}; today ends ${ago(budgets.value.periods.day.resetsAt, now)}, this month ${ago(budgets.value.periods.month.resetsAt, now)}. Limits are shown where set.</p>
<h3>Per user</h3>${table(["User", ...headers], budgetRows(budgets.value.users, budgets.value.limits.user), "Nothing counted this month.")}
<h3>Per channel</h3>${table(["Channel", ...headers], budgetRows(budgets.value.channels, budgets.value.limits.channel), "Nothing counted this month.")}`;
  const allTime = !totals.ok
    ? unavailable(totals)
    : table(
        ["User", "Prompt tokens", "Completion tokens", "Total", "Model answers"],
        totals.value.map((row: UserTotal) => html`<tr><td class="id">${text(row.id)}</td><td class="num">${count(row.prompt_tokens)}</td><td class="num">${count(row.completion_tokens)}</td><td class="num">${count(row.prompt_tokens + row.completion_tokens)}</td><td class="num">${count(row.requests)}</td></tr>`),
        "No usage recorded yet.",
      );
  return html`${periodic}<h3>All time, per user</h3>${allTime}`;
}

function failuresSection(section: Section<FailureEntry[]>, now: number): SafeHtml {
  if (!section.ok) return unavailable(section);
  const rows = section.value.map(
    (entry) => html`<tr><td>${ago(entry.at, now)}</td><td class="id"><code>${text(entry.requestId)}</code></td><td class="nowrap"><code>${text(entry.code, 40)}</code></td>
<td>${text(entry.user)}</td><td class="id">${text(entry.thread)}</td><td class="num">${entry.attempt}</td><td class="message">${text(entry.message, 500)}</td></tr>`,
  );
  return table(["When", "Request id", "Code", "User", "Thread", "Attempt", "Message"], rows, "No failed turns recorded.");
}

/** Memory in MB, or GB from one GiB. */
const memoryText = (bytes: number) => (bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GB` : sizeText(bytes));

/** Redis' used memory against its maxmemory: past it, with noeviction, writes fail and no turn is taken. */
function redisSection(section: Section<RedisMemory>): SafeHtml {
  if (!section.ok) return unavailable(section);
  const { usedBytes, peakBytes, maxBytes, policy } = section.value;
  const peak = html` (peak ${memoryText(peakBytes)}; policy ${text(policy, 40)})`;
  if (!maxBytes) {
    return html`<p><span class="used">${memoryText(usedBytes)}</span> used${peak}. <span class="warn">No maxmemory is set: Redis grows until the machine runs out of memory.</span> Set one (the README gives the memory per active thread).</p>`;
  }
  const share = usedBytes / maxBytes;
  const full = share >= REDIS_MEMORY_WARN_SHARE;
  return html`<p><span class="used ${full ? "over" : ""}">${memoryText(usedBytes)}</span> used of <span class="max">${memoryText(maxBytes)}</span> maxmemory (${Math.round(share * 100)}%)${peak}.
<meter min="0" max="${maxBytes}" high="${Math.round(maxBytes * REDIS_MEMORY_WARN_SHARE)}" value="${usedBytes}"></meter></p>
${full ? html`<p class="warn">Redis is near its maxmemory: past it writes fail, and new turns can't be queued. Raise maxmemory or look for what fills it.</p>` : ""}`;
}

function flashBanner(flash: KillFlash | undefined): SafeHtml {
  if (!flash) return html``;
  if (!flash.heard) return html`<p class="flash warn">No worker is listening: session <code>${text(flash.sessionId)}</code> was not ended. Is a worker running?</p>`;
  return html`<p class="flash">Kill requested for session <code>${text(flash.sessionId)}</code> (${flash.heard} worker${flash.heard === 1 ? "" : "s"} heard it). It leaves this list once it has ended: refresh in a few seconds.</p>`;
}

/** The overview: sessions with their kill buttons, schedules with their remove buttons, usage by user and channel (now and over time), recent failures. */
export function overviewPage(overview: Overview, csrf: string, flash?: KillFlash, removed?: RemovedFlash): string {
  return page(
    "codebot admin",
    html`${flashBanner(flash)}${removedBanner(removed)}
<section id="sessions"><h2>Sessions</h2>${sessionsSection(overview.sessions, csrf, overview.now)}</section>
<section id="schedules"><h2>Schedules</h2>${schedulesSection(overview.schedules, csrf, overview.now)}</section>
<section id="usage"><h2>Usage</h2>${usageSection(overview)}</section>
<section id="usage-history"><h2>Usage over time</h2>${historySection(overview.history, overview.historyDays)}</section>
<section id="failures"><h2>Recent failures</h2>${failuresSection(overview.failures, overview.now)}</section>
<section id="data-sources"><h2>Data sources</h2>${sourcesSection(overview.sources, overview.now)}</section>
<section id="redis"><h2>Redis memory</h2>${redisSection(overview.redisMemory)}</section>
<footer>Read ${ago(overview.now, overview.now)}. The queue's jobs are on the <a href="/admin/queue">board</a>.</footer>`,
  );
}
