import type { ChatRequest } from "../core/chat-request.js";
import { formatCount, inlineCode, summarizeList } from "../core/display-text.js";
import { commandReply, type Delivery } from "../core/reply.js";
import { exportReply, filesZipReply } from "../export/thread-export.js";
import type { ThreadLog } from "../export/thread-log.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { Schedules } from "../schedules/schedules.js";
import type { ThreadMemory } from "./thread-memory.js";

export interface ThreadCommandDeps {
  sandboxes: Sandboxes;
  memory: ThreadMemory;
  threadLog?: ThreadLog;
  /** The thread's schedules, which a reset leaves running (in the fresh session), and says so. */
  schedules?: Pick<Schedules, "list">;
}

export function humanSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

/** A MIME type shown as is only when it looks like one (the sandbox names it). */
function plainMime(mime: string): string {
  return /^[\w.+-]{1,60}\/[\w.+-]{1,60}$/.test(mime) ? mime : "unknown type";
}

/** The thread's commands, answered without the model: /reset, /files [zip], /export [zip]. */
export class ThreadCommands {
  constructor(private readonly deps: ThreadCommandDeps) {}

  async run(request: ChatRequest, sessionId: string, delivery: Delivery): Promise<void> {
    if (request.kind === "reset") return this.reset(request, sessionId, delivery);
    if (request.kind === "files") return this.listFiles(request, sessionId, delivery);
    await delivery.answer(request, await exportReply(this.deps.threadLog, this.deps.sandboxes, request, sessionId));
  }

  private async reset(request: ChatRequest, sessionId: string, delivery: Delivery): Promise<void> {
    await this.deps.sandboxes.kill(sessionId);
    await this.deps.memory.clear(sessionId);
    await this.deps.threadLog?.clear(sessionId);
    const schedules = (await this.deps.schedules?.list({ thread: sessionId })) ?? [];
    const kept = schedules.length
      ? ` Its ${schedules.length === 1 ? "schedule keeps" : `${schedules.length} schedules keep`} running, from now on in this fresh session (${schedules.map((schedule) => inlineCode(schedule.id)).join(", ")}; \`unschedule all\` stops ${schedules.length === 1 ? "it" : "them"}).`
      : "";
    await delivery.answer(request, commandReply(`Started afresh: this thread's variables, files and conversation are cleared.${kept}`));
  }

  private async listFiles(request: ChatRequest, sessionId: string, delivery: Delivery): Promise<void> {
    if (request.text.trim().toLowerCase() === "zip") return delivery.answer(request, await filesZipReply(this.deps.sandboxes, request, sessionId));
    const files = await this.deps.sandboxes.listFiles(sessionId);
    const lines = summarizeList(files.map((file) => `- ${inlineCode(file.path)} (${humanSize(file.size)}, ${plainMime(file.mime)})`));
    const markdown = files.length ? `Files in this thread's session (${formatCount(files.length)}):\n${lines.join("\n")}` : "No files in this thread's session yet.";
    await delivery.answer(request, commandReply(markdown));
  }
}
