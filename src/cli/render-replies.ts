import { summarizeList } from "../core/display-text.js";
import type { LocalClient } from "../platforms/local/local-client.js";
import type { LocalFile } from "../platforms/local/local-replies.js";
import { safeFilename } from "../sandbox/safe-filename.js";
import { writeNewFile } from "./new-file.js";
import { terminalMarkdown } from "./terminal-markdown.js";

export interface RenderOptions {
  outDir: string;
  /** Where status lines and notes go (stderr for `ask`, the terminal for `chat`). */
  status(line: string): void;
  answer(text: string): void;
  /** Show each step's code as it starts (default: yes). */
  showCode?: boolean;
}

/** Terminal control sequences (colours, titles, clipboard writes, cursor moves) are the sandbox's text: dropped. */
export function terminalSafe(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");
}

/** Saves a file under a name of its own in outDir: an existing file is never overwritten. */
function save(outDir: string, file: LocalFile): Promise<string> {
  return writeNewFile(outDir, safeFilename(file.name), Buffer.from(file.base64, "base64"));
}

/** Shows a request's replies as they come; saves its images and files. True when it was answered. */
export async function renderReplies(client: LocalClient, eventId: string, options: RenderOptions): Promise<boolean> {
  const status = (line: string) => options.status(terminalSafe(line));
  for await (const reply of client.replies(eventId)) {
    if (reply.type === "status") status(`… ${reply.text}`);
    if (reply.type === "step" && reply.code !== undefined && options.showCode !== false) status(`── step ${reply.step} ──\n${reply.code.trimEnd()}`);
    if (reply.type === "step" && reply.outcome !== undefined) status(`   step ${reply.step}: ${reply.outcome}`);
    if (reply.type === "fail") {
      status(`codebot: ${reply.message}`);
      return false;
    }
    if (reply.type === "answer") {
      options.answer(terminalMarkdown(terminalSafe(reply.markdown)));
      for (const file of [...reply.images, ...reply.files, ...reply.tables]) status(`saved ${await save(options.outDir, file)}`);
      for (const skipped of summarizeList(reply.skippedFiles)) status(`not sent: ${skipped}`);
      return true;
    }
  }
  return false;
}
