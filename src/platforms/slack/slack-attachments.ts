import type { AttachmentSource } from "../../core/attachment-source.js";
import { downloadAttachment } from "../http-download.js";

/** Slack files: url_private_download, read with the bot token (files:read scope). */
export function slackAttachments(botToken: string): AttachmentSource {
  return {
    fetch: (_request, attachment, maxBytes) => downloadAttachment(attachment.url, attachment.name, maxBytes, { Authorization: `Bearer ${botToken}` }),
  };
}
