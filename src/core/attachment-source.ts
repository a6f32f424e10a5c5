import type { AttachmentRef, ChatRequest } from "./chat-request.js";

/**
 * Where a platform's attachments are fetched from (Slack's url_private with the bot token, Discord's
 * CDN, the local chat's Redis blobs). Throws TurnFailure FILE_TOO_LARGE / FILE_UNAVAILABLE.
 */
export interface AttachmentSource {
  fetch(request: ChatRequest, attachment: AttachmentRef, maxBytes: number): Promise<Buffer>;
}
