import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { RequestKind } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import { scheduleCommand } from "../bot/text-commands.js";
import { LocalChatError } from "../platforms/local/local-client.js";
import { FencedLines } from "./fenced-lines.js";
import { openLocalChat, type LocalChatConfig } from "./local-chat-context.js";
import { unreadable } from "./read-input.js";
import { renderReplies } from "./render-replies.js";
import { CHAT_USAGE } from "./usages.js";

export { CHAT_USAGE };

const HELP = "Type a message and press Enter; a fenced block (```python, then the code, then ```) is sent whole when its fence closes, and runs as written. /attach PATH adds a file to your next message; /files lists the session's files; /export saves the thread as a notebook (/export zip: its files too); /reset starts afresh; schedule <when>: <request> runs a request again and again (schedules lists them, unschedule <id> and resume <id>); /quit leaves.";

/** `codebot chat`: an interactive thread with the bot in the terminal, through Redis and a worker. */
export async function chatCommand(args: string[], config: LocalChatConfig, _log: Logger): Promise<number> {
  const { values } = parseArgs({ args, options: { thread: { type: "string" }, out: { type: "string", default: "codebot-files" } } });
  const thread = values.thread ?? randomBytes(4).toString("hex");
  const chat = openLocalChat(config, 30_000);
  await chat.ready().catch(async (error: unknown) => {
    await chat.close();
    throw error;
  });
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  // Prompts only for a person at a terminal: piped input gets a clean transcript.
  const interactive = Boolean(process.stdin.isTTY);
  const lines = new FencedLines();
  const pending: string[] = [];
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const prompt = () => {
    if (!interactive) return;
    terminal.setPrompt(lines.open ? "... " : "you> ");
    terminal.prompt();
  };
  // Ctrl-C drops a code block being typed; otherwise it leaves (a turn running goes on in the worker).
  terminal.on("SIGINT", () => {
    if (lines.discard()) {
      say("\n(code block dropped)");
      return prompt();
    }
    terminal.close();
    process.exit(130);
  });
  say(`codebot chat, thread ${thread}. Files are saved to ${values.out}/. ${HELP}`);
  prompt();
  try {
    // Lines are read through the iterator, which buffers them: pasted or piped input is not lost
    // while a turn is running.
    for await (const raw of terminal) {
      const message = lines.feed(raw);
      if (message === undefined) {
        prompt();
        continue;
      }
      if (message === "/quit" || message === "/exit") return 0;
      await handle(message);
      prompt();
    }
    if (lines.open) {
      process.stderr.write("codebot: the code block was never closed with ```, so it was not sent.\n");
      return 2;
    }
    return 0;
  } finally {
    terminal.close();
    await chat.close();
  }

  async function handle(line: string): Promise<void> {
    if (!line) return;
    if (line === "/help") return say(HELP);
    if (line === "/attach" || line.startsWith("/attach ")) {
      const path = line.slice("/attach".length).trim();
      if (!path) return say("codebot: which file? /attach PATH");
      const problem = await unreadable(path);
      if (problem) return say(`codebot: ${problem}`);
      pending.push(path);
      return say(`will attach ${path} to your next message`);
    }
    // `schedule <when>: <request>`, `schedules`, `unschedule <id>`, `resume <id>` (with or without a /), as in a Slack or Discord thread.
    const scheduling = pending.length ? undefined : scheduleCommand(line);
    if (scheduling) return send(scheduling.kind, scheduling.text);
    const exporting = /^\/export(?:\s+zip)?$/.test(line);
    if (/^\/[a-z]+(?:\s|$)/.test(line) && !exporting && line !== "/files" && line !== "/reset") {
      return say(`codebot: no command ${line.split(/\s/)[0]}. ${HELP}`);
    }
    const kind: RequestKind = line === "/files" ? "files" : line === "/reset" ? "reset" : exporting ? "export" : "message";
    return send(kind, kind === "message" ? line : exporting && line.endsWith("zip") ? "zip" : "");
  }

  async function send(kind: RequestKind, text: string): Promise<void> {
    try {
      const eventId = await chat.client.send(thread, text, kind === "message" ? pending.splice(0) : [], kind);
      await renderReplies(chat.client, eventId, { outDir: values.out, status: (text) => say(`  ${text}`), answer: (markdown) => say(`codebot> ${markdown}`) });
    } catch (error) {
      if (!(error instanceof LocalChatError)) throw error;
      say(`codebot: ${error.message}`);
    }
  }
}
