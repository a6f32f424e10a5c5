import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalClient } from "../platforms/local/local-client.js";
import type { LocalFile } from "../platforms/local/local-replies.js";
import { safeFilename } from "../sandbox/safe-filename.js";

export interface RenderOptions {
  outDir: string;
  /** Where status lines and notes go (stderr for `ask`, the terminal for `chat`). */
  status(line: string): void;
  answer(text: string): void;
}

async function save(outDir: string, file: LocalFile): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, safeFilename(file.name));
  await writeFile(path, Buffer.from(file.base64, "base64"));
  return path;
}

/** Shows a request's replies as they come; saves its images and files. True when it was answered. */
export async function renderReplies(client: LocalClient, eventId: string, options: RenderOptions): Promise<boolean> {
  for await (const reply of client.replies(eventId)) {
    if (reply.type === "status") options.status(`… ${reply.text}`);
    if (reply.type === "fail") {
      options.status(`codebot: ${reply.message}`);
      return false;
    }
    if (reply.type === "answer") {
      options.answer(reply.markdown);
      for (const file of [...reply.images, ...reply.files]) options.status(`saved ${await save(options.outDir, file)}`);
      for (const skipped of reply.skippedFiles) options.status(`not sent: ${skipped}`);
      return true;
    }
  }
  return false;
}
