import type { Request, RequestHandler } from "express";
import { displayName } from "../core/display-text.js";
import type { Logger } from "../log.js";
import { SCHEDULE_ID, type ScheduleView } from "../schedules/schedule-record.js";
import type { Schedules } from "../schedules/schedules.js";
import { formatRunTime } from "../schedules/schedule-times.js";
import { hasSecondsField } from "../schedules/schedule-words.js";
import type { Section } from "./admin-data.js";
import type { CsrfGuard } from "./admin-csrf.js";
import { ago, html, table, type SafeHtml } from "./admin-html.js";

/** Schedules listed on the page (oldest first); `codebot schedules list` has them all. */
export const SCHEDULES_SHOWN = 200;

const text = (value: string, max = 200) => displayName(value, max);

function removeForm(schedule: ScheduleView, csrf: string): SafeHtml {
  return html`<details class="kill"><summary>Remove…</summary><form method="post" action="/admin/schedules/remove">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="scheduleId" value="${schedule.id}">
<button type="submit">Stop its runs and forget it (the thread's files stay)</button></form></details>`;
}

function state(schedule: ScheduleView, now: number): SafeHtml {
  if (schedule.paused) return html`<span class="state paused">paused</span>${schedule.failures ? html` <small>after ${schedule.failures} failed runs</small>` : ""}`;
  if (schedule.next === undefined) return html`<span class="warn">no next run</span>`;
  return html`${formatRunTime(schedule.next, schedule.timeZone, hasSecondsField(schedule.cron))} <small>${text(schedule.timeZone, 60)}, ${ago(schedule.next, now)}</small>`;
}

/** Every schedule: where, whose, when (words and cron), what, its next run and last outcome, and a remove button. */
export function schedulesSection(section: Section<ScheduleView[]>, csrf: string, now: number): SafeHtml {
  if (!section.ok) return html`<p class="warn">Unavailable: ${section.reason}.</p>`;
  const shown = section.value.slice(0, SCHEDULES_SHOWN);
  const rows = shown.map(
    (schedule) => html`<tr><td class="id"><code>${schedule.id}</code></td><td class="id">${text(schedule.threadKey)}</td>
<td>${text(`${schedule.creator.platform}:${schedule.creator.id}`, 80)} <small>${text(schedule.creator.name, 60)}</small></td>
<td>${text(schedule.words, 120)} <small><code>${text(schedule.cron, 60)}</code></small></td><td class="message">${text(schedule.text, 200)}</td>
<td>${state(schedule, now)}</td>
<td>${schedule.last ? html`${schedule.last.outcome} ${ago(schedule.last.at, now)}` : "-"}${schedule.failures && !schedule.paused ? html` <small class="over">${schedule.failures} failed in a row</small>` : ""}</td>
<td>${removeForm(schedule, csrf)}</td></tr>`,
  );
  const more = section.value.length - shown.length;
  return html`<p>${section.value.length} schedule${section.value.length === 1 ? "" : "s"}: each run is a turn of its thread, as its creator. Removing one never touches the thread's workspace; a session killed above keeps its schedules (they run in a fresh session).${more ? ` ${more} more not shown (\`codebot schedules list\` has them all).` : ""}</p>
${table(["Id", "Thread", "Creator", "When", "Request", "Next run", "Last run", ""], rows, "No schedules.")}`;
}

/** What the page says after a remove button was pressed. */
export interface RemovedFlash {
  scheduleId: string;
  removed: boolean;
}

export function removedFlash(req: Request): RemovedFlash | undefined {
  const { removedSchedule, removed } = req.query;
  if (typeof removedSchedule !== "string" || !SCHEDULE_ID.test(removedSchedule)) return undefined;
  return { scheduleId: removedSchedule, removed: removed === "1" };
}

export function removedBanner(flash: RemovedFlash | undefined): SafeHtml {
  if (!flash) return html``;
  return flash.removed ? html`<p class="flash">Schedule <code>${flash.scheduleId}</code> is removed: it runs no more.</p>` : html`<p class="flash warn">No schedule <code>${flash.scheduleId}</code> (removed already?).</p>`;
}

/**
 * POST /admin/schedules/remove (form: scheduleId, csrf): removes the schedule, as `codebot
 * schedules remove ID` does, then back to the overview, which says so. A bearer-token caller gets
 * JSON: `{"scheduleId": …, "removed": true|false}`.
 */
export function removeScheduleHandler(schedules: Pick<Schedules, "remove">, csrf: CsrfGuard, log: Logger): RequestHandler {
  return (req, res) => {
    const scheduleId: unknown = (req.body as Record<string, unknown> | undefined)?.scheduleId;
    if (!csrf.tokenOk(req, res.locals.auth)) return void res.status(403).type("text/plain").send("Refused: the form's token is missing or stale (reload the admin page).\n");
    if (typeof scheduleId !== "string" || !SCHEDULE_ID.test(scheduleId)) return void res.status(400).type("text/plain").send("A scheduleId is needed.\n");
    schedules.remove(scheduleId).then(
      (removed) => {
        log.info({ schedule: scheduleId, removed, auth: res.locals.auth }, "the admin page removed a schedule");
        if (res.locals.auth === "bearer") return void res.status(removed ? 200 : 404).json({ scheduleId, removed });
        res.redirect(303, `/admin?${new URLSearchParams({ removedSchedule: scheduleId, removed: removed ? "1" : "0" }).toString()}#schedules`);
      },
      (error: unknown) => {
        log.warn({ err: error, schedule: scheduleId }, "could not remove a schedule");
        res.status(503).type("text/plain").send("Redis could not be reached: nothing was removed.\n");
      },
    );
  };
}
