import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { Logger } from "../log.js";
import { scheduleCommand } from "../bot/text-commands.js";
import { LocalChatError } from "../platforms/local/local-client.js";
import { CliError } from "./cli-error.js";
import { openLocalChat, type LocalChatConfig } from "./local-chat-context.js";
import { checkAttachments, readCode } from "./read-input.js";
import { renderReplies } from "./render-replies.js";
import { ASK_USAGE } from "./usages.js";

export { ASK_USAGE };

/** `codebot ask`: one turn through Redis and a running worker, exactly as a platform message. */
export async function askCommand(args: string[], config: LocalChatConfig, _log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      thread: { type: "string" },
      attach: { type: "string", multiple: true, default: [] },
      out: { type: "string", default: "." },
      wait: { type: "string", default: "30" },
    },
  });
  const wait = Number(values.wait);
  if (!(wait > 0)) throw new CliError("--wait takes a number of seconds.");
  const text = positionals.length === 1 && positionals[0] === "-" ? await readCode("-") : positionals.join(" ");
  if (!text.trim() && !values.attach.length) throw new CliError(`No message given.\nUsage: ${ASK_USAGE}`);
  await checkAttachments(values.attach);
  const thread = values.thread ?? randomBytes(4).toString("hex");
  const chat = openLocalChat(config, wait * 1000);
  try {
    await chat.ready();
    // The schedule commands are commands here too (`codebot ask --thread T "schedule every day at 09:00: report"`).
    const scheduling = values.attach.length ? undefined : scheduleCommand(text);
    const eventId = scheduling ? await chat.client.send(thread, scheduling.text, [], scheduling.kind) : await chat.client.send(thread, text, values.attach);
    const answered = await renderReplies(chat.client, eventId, {
      outDir: values.out,
      status: (line) => process.stderr.write(`${line}\n`),
      answer: (markdown) => process.stdout.write(`${markdown}\n`),
    });
    if (!values.thread) process.stderr.write(`thread: ${thread} (follow up with --thread ${thread})\n`);
    return answered ? 0 : 1;
  } catch (error) {
    if (error instanceof LocalChatError) throw new CliError(error.message, error.code === "NO_WORKER" ? 3 : 2);
    throw error;
  } finally {
    await chat.close();
  }
}
