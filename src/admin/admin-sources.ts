import { displayName } from "../core/display-text.js";
import { DAYS_SHOWN, type SourceCounts, type SourceFailure } from "../datasources/call-log.js";
import type { Section } from "./admin-data.js";
import { ago, count, html, table, type SafeHtml } from "./admin-html.js";

const text = (value: string, max = 200) => displayName(value, max);

/** The data sources' calls: per source today and over the last days (UTC), and the newest failures with why. */
export function sourcesSection(section: Section<{ counts: SourceCounts[]; failures: SourceFailure[] }>, now: number): SafeHtml {
  if (!section.ok) return html`<p class="warn">Unavailable: ${section.reason}.</p>`;
  const { counts, failures } = section.value;
  const failed = (value: number) => html`<span class="${value ? "over" : ""}">${count(value)}</span>`;
  const rows = counts.map(
    (row) => html`<tr><td class="id">${text(row.source, 100)}</td><td class="num">${count(row.today.ok)}</td><td class="num">${failed(row.today.failed)}</td>
<td class="num">${count(row.week.ok)}</td><td class="num">${failed(row.week.failed)}</td></tr>`,
  );
  const failureRows = failures.map(
    (entry) => html`<tr><td>${ago(entry.at, now)}</td><td class="id">${text(entry.source, 100)}</td><td class="nowrap"><code>${text(entry.code, 40)}</code></td>
<td>${text(entry.user)}</td><td class="id">${text(entry.thread)}</td><td class="id"><code>${text(entry.requestId)}</code></td><td class="message">${text(entry.message, 500)}</td></tr>`,
  );
  return html`<p>Calls of the sandboxes' code to DATA_SOURCES_FILE's sources (codebot.sql, codebot.fetch); days in UTC.</p>
${table(["Source", "Answered today", "Failed today", `Answered, ${DAYS_SHOWN} days`, `Failed, ${DAYS_SHOWN} days`], rows, "No data-source calls recorded.")}
<h3>Newest failed calls</h3>
${table(["When", "Source", "Code", "User", "Thread", "Request id", "Message"], failureRows, "No failed data-source calls.")}`;
}
