import type { AttachmentSource } from "../../core/attachment-source.js";
import { downloadAttachment } from "../http-download.js";

/**
 * The hosts that may see the bot token: Slack's own file hosts over https (slack.com and its
 * subdomains such as files.slack.com, *.slack-edge.com), and SLACK_API_URL's origin when set (with
 * its https subdomains: GovSlack's files are on files.slack-gov.com).
 */
export function slackFileHost(apiUrl?: string): (url: URL) => boolean {
  const api = apiUrl ? new URL(apiUrl) : undefined;
  const domains = ["slack.com", "slack-edge.com", ...(api?.protocol === "https:" ? [api.hostname] : [])];
  return (url) => {
    if (url.username || url.password) return false;
    if (api && url.origin === api.origin) return true;
    if (url.protocol !== "https:") return false;
    return domains.some((domain) => url.hostname === domain || url.hostname.endsWith(`.${domain}`));
  };
}

/** Slack files: url_private_download, read with the bot token (files:read scope), only from Slack's hosts. */
export function slackAttachments(botToken: string, apiUrl?: string): AttachmentSource {
  const credentials = { headers: { Authorization: `Bearer ${botToken}` }, allowed: slackFileHost(apiUrl), platform: "Slack" };
  return {
    fetch: (_request, attachment, maxBytes) => downloadAttachment(attachment.url, attachment.name, maxBytes, credentials),
  };
}
