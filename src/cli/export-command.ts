import { parseArgs } from "node:util";
import type { Logger } from "../log.js";
import { LocalChatError } from "../platforms/local/local-client.js";
import { safeFilename } from "../sandbox/safe-filename.js";
import { CliError } from "./cli-error.js";
import { openLocalChat, type LocalChatConfig } from "./local-chat-context.js";
import { writeNewFile } from "./new-file.js";
import { terminalSafe } from "./render-replies.js";
import { EXPORT_USAGE } from "./usages.js";

export { EXPORT_USAGE };

/**
 * `codebot export`: a local thread (the --thread of `codebot ask` and `codebot chat`) as a Jupyter
 * notebook, and with --zip its session's files as a zip, asked of a running worker like /export.
 * Written into DIR under names of their own (an existing file is never overwritten); the paths
 * written go to stdout, one a line.
 */
export async function exportCommand(args: string[], config: LocalChatConfig, _log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      thread: { type: "string" },
      out: { type: "string", default: "." },
      zip: { type: "boolean", default: false },
      wait: { type: "string", default: "30" },
    },
  });
  if (!values.thread || positionals.length) throw new CliError(`Which thread? Usage: ${EXPORT_USAGE}`);
  const wait = Number(values.wait);
  if (!(wait > 0)) throw new CliError("--wait takes a number of seconds.");
  const chat = openLocalChat(config, wait * 1000);
  try {
    await chat.ready();
    const eventId = await chat.client.send(values.thread, values.zip ? "zip" : "", [], "export");
    for await (const reply of chat.client.replies(eventId)) {
      if (reply.type === "status") process.stderr.write(`… ${terminalSafe(reply.text)}\n`);
      if (reply.type === "fail") {
        process.stderr.write(`codebot: ${terminalSafe(reply.message)}\n`);
        return 1;
      }
      if (reply.type === "answer") {
        process.stderr.write(`${terminalSafe(reply.markdown)}\n`);
        for (const file of reply.files) process.stdout.write(`${await writeNewFile(values.out, safeFilename(file.name), Buffer.from(file.base64, "base64"))}\n`);
        return reply.files.length ? 0 : 1;
      }
    }
    return 1;
  } catch (error) {
    if (error instanceof LocalChatError) throw new CliError(error.message, error.code === "NO_WORKER" ? 3 : 2);
    throw error;
  } finally {
    await chat.close();
  }
}
