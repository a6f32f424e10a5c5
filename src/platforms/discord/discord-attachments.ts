import type { AttachmentSource } from "../../core/attachment-source.js";
import { downloadAttachment } from "../http-download.js";

/** Discord attachments: signed CDN URLs, fetched without credentials. */
export function discordAttachments(): AttachmentSource {
  return { fetch: (_request, attachment, maxBytes) => downloadAttachment(attachment.url, attachment.name, maxBytes) };
}
