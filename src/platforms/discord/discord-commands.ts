import { Routes, type REST } from "discord.js";
import type { RequestKind } from "../../core/chat-request.js";

/** The slash commands, in Discord's application command JSON (type 1 = chat input). */
export const COMMANDS = [
  {
    name: "ask",
    description: "Ask codebot a question about your data",
    type: 1,
    options: [
      { type: 3, name: "question", description: "What you want to know", required: true },
      { type: 11, name: "file", description: "A file to analyse", required: false },
    ],
  },
  { name: "run", description: "Run Python code as written, in this thread's session", type: 1, options: [{ type: 3, name: "code", description: "The code", required: true }] },
  { name: "reset", description: "Start a fresh session for this thread (variables, files, conversation)", type: 1 },
  { name: "files", description: "List the files in this thread's session", type: 1 },
];

export const COMMAND_KINDS: Record<string, RequestKind> = { ask: "message", run: "run", reset: "reset", files: "files" };

/** `codebot discord register`: puts the slash commands on the application (globally). */
export async function registerCommands(rest: REST): Promise<{ applicationId: string; count: number }> {
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const registered = (await rest.put(Routes.applicationCommands(application.id), { body: COMMANDS })) as unknown[];
  return { applicationId: application.id, count: registered.length };
}
