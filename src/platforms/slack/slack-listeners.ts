import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { AccessRules } from "../../core/access-policy.js";
import type { Intake } from "../../bot/intake.js";
import type { Logger } from "../../log.js";
import { STOP_ACTION_ID } from "./slack-delivery.js";
import { leftOutNote, newestAttachments, slackRequest, type SlackFile, type SlackMessageFacts } from "./slack-request.js";
import { SlackUserNames } from "./slack-users.js";

export interface SlackListenerDeps {
  intake: Intake;
  rules: AccessRules;
  log: Logger;
}

/** Files posted in the thread since the bot last spoke there, for a mention that refers to them. */
async function earlierThreadFiles(client: WebClient, channel: string, threadTs: string, currentTs: string, botUserId?: string): Promise<SlackFile[]> {
  const { messages = [] } = await client.conversations.replies({ channel, ts: threadTs, limit: 200 });
  const lastBot = messages.reduce((last, message, i) => (message.user === botUserId || message.bot_id ? i : last), -1);
  return messages.slice(lastBot + 1).filter((message) => message.ts !== currentTs).flatMap((message) => (message.files ?? []) as SlackFile[]);
}

/**
 * Slack in: mentions in channels (and in threads), every DM message, and the Stop button. The
 * listeners only turn events into requests and hand them to the intake; Bolt has acknowledged
 * the HTTP request before they run.
 */
export function registerSlackListeners(app: App, { intake, rules, log }: SlackListenerDeps): void {
  const names = new Map<WebClient, SlackUserNames>();
  const userName = (client: WebClient, id: string) => {
    if (!names.has(client)) names.set(client, new SlackUserNames(client));
    return names.get(client)!.name(id);
  };

  async function submit(client: WebClient, facts: SlackMessageFacts): Promise<void> {
    const request = slackRequest(facts);
    const outcome = await intake.submit(request, rules, facts.isDm);
    const tell = (text: string) => client.chat.postEphemeral({ channel: facts.channel, user: facts.user, text, ...(facts.threadTs ? { thread_ts: facts.threadTs } : {}) });
    if (outcome.status === "queued") {
      await client.reactions.add({ channel: facts.channel, timestamp: facts.ts, name: "eyes" }).catch(() => undefined);
      const { leftOut } = newestAttachments(facts);
      if (leftOut) await tell(leftOutNote(leftOut)).catch((error) => log.warn({ err: error }, "could not tell the user about files left out"));
    } else if (outcome.status === "refused") {
      await tell(outcome.message);
    }
  }

  app.event("app_mention", async ({ event, body, context, client }) => {
    if (!event.user || event.bot_id) return;
    const earlierFiles = event.thread_ts ? await earlierThreadFiles(client, event.channel, event.thread_ts, event.ts, context.botUserId).catch(() => []) : [];
    await submit(client, {
      teamId: body.team_id,
      channel: event.channel,
      user: event.user,
      userName: await userName(client, event.user),
      text: event.text,
      ts: event.ts,
      threadTs: event.thread_ts,
      files: (event.files ?? []) as SlackFile[],
      earlierFiles,
      botUserId: context.botUserId,
      isDm: event.channel.startsWith("D"),
    });
  });

  app.event("message", async ({ event, body, context, client }) => {
    if (event.channel_type !== "im") return;
    if (event.subtype !== undefined && event.subtype !== "file_share") return;
    if (!("user" in event) || !event.user || ("bot_id" in event && event.bot_id) || event.user === context.botUserId) return;
    await submit(client, {
      teamId: body.team_id,
      channel: event.channel,
      user: event.user,
      userName: await userName(client, event.user),
      text: event.text ?? "",
      ts: event.ts,
      threadTs: "thread_ts" in event ? event.thread_ts : undefined,
      files: ("files" in event ? event.files ?? [] : []) as SlackFile[],
      botUserId: context.botUserId,
      isDm: true,
    });
  });

  app.action(STOP_ACTION_ID, async ({ ack, action, body, client }) => {
    await ack();
    const eventId = "value" in action ? action.value : undefined;
    if (!eventId) return;
    log.info({ requestId: eventId, user: body.user.id }, "stop requested");
    await intake.cancel(eventId);
    const channel = body.channel?.id;
    const ts = "message" in body ? (body.message?.ts as string | undefined) : undefined;
    if (channel && ts) await client.chat.update({ channel, ts, text: ":octagonal_sign: Stopping…", blocks: [] }).catch(() => undefined);
  });

  app.error(async (error) => {
    log.error({ err: error }, "slack listener failed");
  });
}
