import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import type { RequestKind } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import { LocalChatError } from "../platforms/local/local-client.js";
import { openLocalChat } from "./local-chat-context.js";
import { renderReplies } from "./render-replies.js";

export const CHAT_USAGE = "codebot chat [--thread ID] [--out DIR]   (then: a message, /attach PATH, /files, /export [zip], /reset, /quit)";

const HELP = "Type a message and press Enter. /attach PATH adds a file to your next message; /files lists the session's files; /export saves the thread as a notebook (/export zip: its files too); /reset starts afresh; /quit leaves.";

/** `codebot chat`: an interactive thread with the bot in the terminal, through Redis and a worker. */
export async function chatCommand(args: string[], config: Config, _log: Logger): Promise<number> {
  const { values } = parseArgs({ args, options: { thread: { type: "string" }, out: { type: "string", default: "codebot-files" } } });
  const thread = values.thread ?? randomBytes(4).toString("hex");
  const chat = openLocalChat(config, 30_000);
  await chat.ready().catch(async (error: unknown) => {
    await chat.close();
    throw error;
  });
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  const pending: string[] = [];
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(`codebot chat, thread ${thread}. Files are saved to ${values.out}/. ${HELP}`);
  terminal.setPrompt("you> ");
  terminal.prompt();
  try {
    // Lines are read through the iterator, which buffers them: pasted or piped input is not lost
    // while a turn is running.
    for await (const raw of terminal) {
      const line = raw.trim();
      if (line === "/quit" || line === "/exit") return 0;
      await handle(line);
      terminal.prompt();
    }
    return 0;
  } finally {
    terminal.close();
    await chat.close();
  }

  async function handle(line: string): Promise<void> {
    if (!line) return;
    if (line === "/help") return say(HELP);
    if (line.startsWith("/attach ")) {
      pending.push(line.slice("/attach ".length).trim());
      return say(`will attach ${pending.at(-1)} to your next message`);
    }
    const exporting = /^\/export(?:\s+zip)?$/.test(line);
    const kind: RequestKind = line === "/files" ? "files" : line === "/reset" ? "reset" : exporting ? "export" : "message";
    try {
      const text = kind === "message" ? line : exporting && line.endsWith("zip") ? "zip" : "";
      const eventId = await chat.client.send(thread, text, kind === "message" ? pending.splice(0) : [], kind);
      await renderReplies(chat.client, eventId, { outDir: values.out, status: (text) => say(`  ${text}`), answer: (markdown) => say(`codebot> ${markdown}`) });
    } catch (error) {
      if (!(error instanceof LocalChatError)) throw error;
      say(`codebot: ${error.message}`);
    }
  }
}
