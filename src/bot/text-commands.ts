import type { RequestKind } from "../core/chat-request.js";

/** The requests that are commands rather than questions. */
export type CommandKind = Extract<RequestKind, "reset" | "files" | "export">;

/** A command and its one argument: "zip" (files: all as one zip; export: the files too) or none. */
export interface TextCommand {
  kind: CommandKind;
  text: "" | "zip";
}

const COMMAND = /^[/!]?(reset|files|export)(?:\s+(zip))?[.!]?$/i;

/**
 * A message that is only a command: "reset", "files", "files zip", "export", "export zip" (any
 * case; a leading / or ! is allowed). Slack can't send slash commands from a thread, so in a
 * thread these words (after a mention in a channel, as they are in a DM) do what /reset, /files and
 * /export do. "reset zip" is not a command (it stays a question).
 */
export function textCommand(text: string): TextCommand | undefined {
  const match = COMMAND.exec(text.trim());
  if (!match) return undefined;
  const kind = match[1]!.toLowerCase() as CommandKind;
  if (kind === "reset" && match[2]) return undefined;
  return { kind, text: match[2] ? "zip" : "" };
}

/** A slash command's text as the command's argument: "" or "zip" (not for reset); undefined when it is anything else. */
export function commandArgument(kind: CommandKind, text: string): TextCommand["text"] | undefined {
  const argument = text.trim().toLowerCase();
  if (argument === "") return "";
  return argument === "zip" && kind !== "reset" ? "zip" : undefined;
}
