import type { AttachmentSource } from "../core/attachment-source.js";
import type { ChatRequest, Platform } from "../core/chat-request.js";
import type { OutgoingFile } from "../core/reply.js";
import { TurnFailure } from "../core/turn-failure.js";
import type { TurnMetrics } from "../ops/turn-metrics.js";
import type { TurnTally } from "../ops/turn-tally.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import { humanSize } from "./thread-commands.js";

/** What fetching a request's attachments takes (the turn handler's own deps). */
export interface AttachmentDeps {
  attachments: Partial<Record<Platform, AttachmentSource>>;
  maxFileBytes: number;
  sandboxes: Pick<Sandboxes, "upload">;
  metrics?: Pick<TurnMetrics, "filesIn">;
}

/** Who a session opened by this request counts against, for the per-user session cap. */
export function sessionOwner(request: ChatRequest): string {
  return `${request.conversation.platform}:${request.user.id}`;
}

/** Fetches each attachment of the request and puts it in /mnt/data; returns what the model should be told. */
export async function fetchAttachments(
  deps: AttachmentDeps,
  request: ChatRequest,
  sessionId: string,
  context: { tally?: TurnTally },
): Promise<Array<OutgoingFile & { path: string }>> {
  if (!request.attachments.length) return [];
  const source = deps.attachments[request.conversation.platform];
  if (!source) throw new TurnFailure("FILE_UNAVAILABLE", `Attachments from ${request.conversation.platform} can't be fetched by this worker.`);
  for (const attachment of request.attachments) {
    if (attachment.size > deps.maxFileBytes) {
      throw new TurnFailure("FILE_TOO_LARGE", `"${attachment.name}" is ${humanSize(attachment.size)}, over the ${humanSize(deps.maxFileBytes)} limit for one file. Nothing was run.`);
    }
  }
  const fetched = await Promise.all(
    request.attachments.map(async (attachment) => ({
      name: attachment.name,
      mime: attachment.mime,
      data: await source.fetch(request, attachment, deps.maxFileBytes),
    })),
  );
  const placed = await deps.sandboxes.upload(sessionId, fetched, { owner: sessionOwner(request) });
  const bytesIn = fetched.reduce((bytes, file) => bytes + file.data.length, 0);
  deps.metrics?.filesIn(bytesIn);
  if (context.tally) context.tally.bytesIn += bytesIn;
  return fetched.map((file, i) => ({ ...file, path: placed[i]?.path ?? file.name }));
}
