import { createHmac, randomBytes } from "node:crypto";
import type { SlackHostedFile } from "./slack-web-api-stand-in.js";

/** Payloads in the shapes Slack's Events API and interactivity send, and Slack's request signing. */
export interface SlackMessageSpec {
  user: string;
  text: string;
  channel: string;
  ts: string;
  threadTs?: string;
  files?: SlackHostedFile[];
}

export function eventCallback(event: Record<string, unknown>, teamId: string, botUserId: string): Record<string, unknown> {
  return {
    token: "verification-token-unused",
    team_id: teamId,
    api_app_id: "A0CODEBOT1",
    event,
    type: "event_callback",
    event_id: `Ev${randomBytes(5).toString("hex").toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(8).toString("hex")}`,
  };
}

function textBlocks(text: string) {
  return [{ type: "rich_text", block_id: randomBytes(2).toString("hex"), elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }] }];
}

/** What app_mention and message events share: author, text, blocks, timestamps, thread and files. */
function messageFields(spec: SlackMessageSpec, teamId: string): Record<string, unknown> {
  return {
    user: spec.user,
    text: spec.text,
    ts: spec.ts,
    client_msg_id: randomBytes(8).toString("hex"),
    team: teamId,
    blocks: textBlocks(spec.text),
    channel: spec.channel,
    event_ts: spec.ts,
    ...(spec.threadTs ? { thread_ts: spec.threadTs } : {}),
    ...(spec.files?.length ? { files: spec.files, upload: false, display_as_bot: false } : {}),
  };
}

export function appMention(spec: SlackMessageSpec, teamId: string): Record<string, unknown> {
  return { type: "app_mention", ...messageFields(spec, teamId) };
}

export function directMessage(spec: SlackMessageSpec, teamId: string): Record<string, unknown> {
  return { type: "message", ...(spec.files?.length ? { subtype: "file_share" } : {}), ...messageFields(spec, teamId), channel_type: "im" };
}

export function blockActions(opts: { user: string; channel: string; messageTs: string; actionId: string; value: string; teamId: string; threadTs?: string }): Record<string, unknown> {
  return {
    type: "block_actions",
    user: { id: opts.user, username: "ada", name: "ada", team_id: opts.teamId },
    api_app_id: "A0CODEBOT1",
    token: "verification-token-unused",
    container: { type: "message", message_ts: opts.messageTs, channel_id: opts.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
    team: { id: opts.teamId, domain: "stand-in" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: opts.channel, name: "data-team" },
    message: { type: "message", user: "U0BOTUSER1", ts: opts.messageTs, text: "working", bot_id: "B0BOT00001", ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) },
    state: { values: {} },
    response_url: "http://127.0.0.1:9/unused",
    actions: [{ action_id: opts.actionId, block_id: "stop", text: { type: "plain_text", text: "Stop", emoji: true }, value: opts.value, style: "danger", type: "button", action_ts: `${Date.now() / 1000}` }],
  };
}

/** assistant_thread_started: the user opened a new chat in the app's assistant container. */
export function assistantThreadStarted(opts: { user: string; channel: string; threadTs: string; teamId: string; contextChannel?: string }): Record<string, unknown> {
  return {
    type: "assistant_thread_started",
    assistant_thread: {
      user_id: opts.user,
      context: opts.contextChannel ? { channel_id: opts.contextChannel, team_id: opts.teamId, enterprise_id: null } : {},
      channel_id: opts.channel,
      thread_ts: opts.threadTs,
    },
    event_ts: `${Date.now() / 1000}`,
  };
}

/** A slash command invocation, as Slack sends it (form fields over HTTP, the same object over Socket Mode). */
export function slashCommand(opts: { command: string; text?: string; user: string; channel: string; teamId: string; responseUrl: string; triggerId?: string }): Record<string, string> {
  return {
    token: "verification-token-unused",
    team_id: opts.teamId,
    team_domain: "stand-in",
    channel_id: opts.channel,
    channel_name: opts.channel.startsWith("D") ? "directmessage" : "data-team",
    user_id: opts.user,
    user_name: "ada",
    command: opts.command,
    text: opts.text ?? "",
    api_app_id: "A0CODEBOT1",
    is_enterprise_install: "false",
    response_url: opts.responseUrl,
    trigger_id: opts.triggerId ?? `${Date.now()}.${randomBytes(6).toString("hex")}`,
  };
}

/** A click on a feedback_buttons element (block_actions): `value` is the clicked button's. */
export function feedbackAction(opts: { user: string; channel: string; messageTs: string; threadTs?: string; actionId: string; value: string; teamId: string; positive: boolean }): Record<string, unknown> {
  const payload = blockActions({ ...opts, value: opts.value });
  return {
    ...payload,
    container: { type: "message", message_ts: opts.messageTs, channel_id: opts.channel, is_ephemeral: false, ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) },
    message: { type: "message", user: "U0BOTUSER1", ts: opts.messageTs, text: "the answer", bot_id: "B0BOT00001", ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) },
    actions: [{ type: "feedback_buttons", action_id: opts.actionId, block_id: randomBytes(3).toString("hex"), value: opts.value, text: { type: "plain_text", text: opts.positive ? "👍" : "👎", emoji: true }, action_ts: `${Date.now() / 1000}` }],
  };
}

export interface SignOptions {
  timestamp?: number;
  retryNum?: number;
  badSignature?: boolean;
}

/** POSTs a payload to a Bolt app as Slack would: JSON for events, a form with `payload` for interactivity, form fields for slash commands. */
export async function postToSlackApp(url: string, payload: object, signingSecret: string, kind: "event" | "interaction" | "command", options: SignOptions = {}) {
  const body =
    kind === "event" ? JSON.stringify(payload) : kind === "command" ? new URLSearchParams(payload as Record<string, string>).toString() : new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const digest = createHmac("sha256", options.badSignature ? "wrong-secret" : signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
  const headers: Record<string, string> = {
    "content-type": kind === "event" ? "application/json" : "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": `v0=${digest}`,
  };
  if (options.retryNum !== undefined) {
    headers["x-slack-retry-num"] = String(options.retryNum);
    headers["x-slack-retry-reason"] = "http_timeout";
  }
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, body: await response.text() };
}
