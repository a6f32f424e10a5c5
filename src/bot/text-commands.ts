import type { RequestKind } from "../core/chat-request.js";

/** The requests that are commands rather than questions. */
export type CommandKind = Extract<RequestKind, "reset" | "files" | "export" | ScheduleKind>;
/** The schedule commands (src/schedules/): their argument is free text, read by the worker. */
export type ScheduleKind = Extract<RequestKind, "schedule" | "schedules" | "unschedule" | "resume">;

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ["schedule", "schedules", "unschedule", "resume"];

/**
 * A command and its argument: for reset, files and export "zip" (files: all as one zip; export:
 * the files too) or none; for the schedule commands the text after the word ("every day at 09:00:
 * report", an id, "all"), which the worker reads and answers with a usage when it can't.
 */
export interface TextCommand {
  kind: CommandKind;
  text: string;
}

const COMMAND = /^[/!]?(reset|files|export)(?:\s+(zip))?[.!]?$/i;
/**
 * `schedule <anything>` (the worker tells a malformed one how it goes), `schedules`, and
 * `unschedule` / `resume` with at most one word (an id, or "all"): "resume the analysis" stays a question.
 */
const SCHEDULE_COMMAND = /^[/!]?(?:(schedule)(?:\s+([\s\S]*))?|(schedules)[.!]?|(unschedule|resume)(?:\s+(\S+))?)$/i;

/** A message that is one of the schedule commands, with its argument; undefined for anything else. */
export function scheduleCommand(text: string): TextCommand | undefined {
  const match = SCHEDULE_COMMAND.exec(text.trim());
  if (!match) return undefined;
  const kind = (match[1] ?? match[3] ?? match[4])!.toLowerCase() as ScheduleKind;
  return { kind, text: (match[2] ?? match[5] ?? "").trim() };
}

/**
 * A message that is only a command: "reset", "files", "files zip", "export", "export zip" (any
 * case; a leading / or ! is allowed), or a schedule command ("schedule every monday at 09:00:
 * …", "schedules", "unschedule k7m2qz", "resume k7m2qz"). Slack can't send slash commands from a
 * thread, so in a thread these words (after a mention in a channel, as they are in a DM) do what
 * the slash commands do. "reset zip" is not a command (it stays a question).
 */
export function textCommand(text: string): TextCommand | undefined {
  const scheduled = scheduleCommand(text);
  if (scheduled) return scheduled;
  const match = COMMAND.exec(text.trim());
  if (!match) return undefined;
  const kind = match[1]!.toLowerCase() as CommandKind;
  if (kind === "reset" && match[2]) return undefined;
  return { kind, text: match[2] ? "zip" : "" };
}

/**
 * A slash command's text as the command's argument: for reset, files and export "" or "zip" (not
 * for reset), undefined when it is anything else; a schedule command's text as it is.
 */
export function commandArgument(kind: CommandKind, text: string): string | undefined {
  if ((SCHEDULE_KINDS as readonly string[]).includes(kind)) return text.trim();
  const argument = text.trim().toLowerCase();
  if (argument === "") return "";
  return argument === "zip" && kind !== "reset" ? "zip" : undefined;
}
