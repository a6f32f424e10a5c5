import { Assistant, type AllMiddlewareArgs, type App, type SlackEventMiddlewareArgs } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { checkAccess, type AccessRules } from "../../core/access-policy.js";
import { threadKey } from "../../core/chat-request.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import type { AssistantThreads } from "./slack-assistant-threads.js";
import { STOP_TOO_LATE, stopRefusal, type Intake } from "../../bot/intake.js";
import type { LatestDmThreads } from "./slack-latest-dm-threads.js";
import { commandArgument, SCHEDULE_KINDS, type CommandKind, type ScheduleKind } from "../../bot/text-commands.js";
import { scheduleStopText, type ScheduleControl } from "../../bot/schedule-control.js";
import { SCHEDULE_STOP_ACTION_ID } from "./slack-schedule-button.js";
import type { FeedbackStore } from "../../feedback/feedback-store.js";
import type { Logger } from "../../log.js";
import { STOP_ACTION_ID } from "./slack-delivery.js";
import { escapeMrkdwn } from "./slack-markdown.js";
import { NO_UNFURL } from "./slack-no-unfurl.js";
import { FEEDBACK_ACTION_ID, parseFeedbackValue } from "./slack-feedback.js";
import { assistantTitle, leftOutNote, newestAttachments, slackRequest, slashCommandRequest, type SlackFile, type SlackMessageFacts } from "./slack-request.js";
import { SlackUserNames } from "./slack-users.js";

export interface SlackListenerDeps {
  intake: Intake;
  rules: AccessRules;
  log: Logger;
  feedback: FeedbackStore;
  assistantThreads: AssistantThreads;
  latestDmThreads: LatestDmThreads;
  /** "Stop this schedule" under scheduled runs' answers; none: the button is answered as unavailable. */
  schedules?: ScheduleControl;
}

/** The slash commands (see the app manifest) and the request kind each one makes. */
export const SLASH_COMMANDS: Record<string, CommandKind> = {
  "/reset": "reset",
  "/files": "files",
  "/export": "export",
  "/schedule": "schedule",
  "/schedules": "schedules",
  "/unschedule": "unschedule",
};

/** The greeting of a new assistant thread, and its suggested prompts (Slack shows at most four). */
const GREETING = "Hi! I answer questions about your data by running Python. Attach a CSV or Excel file and ask, or pick a suggestion.";
export const SUGGESTED_PROMPTS = [
  { title: "Summarise a CSV", message: "Summarise the CSV I'm attaching: its columns and types, missing values, and the key statistics of each column." },
  { title: "Plot a column over time", message: "Plot a column of the file I'm attaching over time (use its date column for the x-axis) and describe the trend." },
  { title: "Find outliers", message: "Find outliers in the numeric columns of the file I'm attaching, show them in a table and explain how you found them." },
  { title: "Try it on sample data", message: "Make a small sample sales dataset, show its first rows, and chart the monthly totals." },
];

type DirectMessageArgs = Pick<SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs, "event" | "body" | "context" | "client">;

const isDmChannel = (channel: string) => channel.startsWith("D");

/** Files posted in the thread since the bot last spoke there, for a mention that refers to them. */
async function earlierThreadFiles(client: WebClient, channel: string, threadTs: string, currentTs: string, botUserId?: string): Promise<SlackFile[]> {
  const { messages = [] } = await client.conversations.replies({ channel, ts: threadTs, limit: 200 });
  const lastBot = messages.reduce((last, message, i) => (message.user === botUserId || message.bot_id ? i : last), -1);
  return messages.slice(lastBot + 1).filter((message) => message.ts !== currentTs).flatMap((message) => (message.files ?? []) as SlackFile[]);
}

/** What a slash command in a channel answers: Slack can't send one from a thread, so a mention there does it. */
function inChannelHint(command: string, kind: CommandKind, argument: string, botUserId?: string): string {
  const me = botUserId ? `<@${botUserId}>` : "@codebot";
  return `${command} acts on a conversation with me, and Slack doesn't send slash commands from threads. In the thread, mention me with the command instead: ${me} ${[kind, argument].filter(Boolean).join(" ")}`;
}

/**
 * Slack in: mentions in channels (and in threads), every DM message (assistant threads of the
 * Agents & AI Apps feature included), the slash commands, and the Stop and feedback buttons. The
 * listeners only turn events into requests and hand them to the intake; Bolt has acknowledged the
 * request before they run. Everything said to the user alone is ephemeral.
 *
 * Commands and threads: Slack sends slash commands without a thread and not at all from a thread.
 * So /reset, /files and /export in the DM with the bot act on the DM's latest conversation (the
 * thread, assistant thread or top level last used there); in a channel they answer, ephemerally,
 * how to do it in the thread: a mention with the command word ("@codebot files zip"), which works
 * in any thread (in a DM thread, the word alone).
 */
export function registerSlackListeners(app: App, { intake, rules, log, feedback, assistantThreads, latestDmThreads, schedules }: SlackListenerDeps): void {
  const names = new Map<WebClient, SlackUserNames>();
  const userName = (client: WebClient, id: string) => {
    if (!names.has(client)) names.set(client, new SlackUserNames(client));
    return names.get(client)!.name(id);
  };
  /** A message only the user sees, in the thread when there is one. */
  const tell = (client: WebClient, where: { channel: string; user: string; threadTs?: string }, text: string) =>
    client.chat.postEphemeral({ channel: where.channel, user: where.user, text: neutralizeMassMentions(text), ...(where.threadTs ? { thread_ts: where.threadTs } : {}), ...NO_UNFURL });

  async function submit(client: WebClient, facts: SlackMessageFacts): Promise<void> {
    const inAssistantThread =
      facts.isDm && facts.threadTs !== undefined && (await assistantThreads.isAssistantThread(facts.teamId, facts.channel, facts.threadTs).catch(() => false));
    const request = slackRequest({ ...facts, assistantThread: inAssistantThread });
    const outcome = await intake.submit(request, rules, facts.isDm);
    const where = { channel: facts.channel, user: facts.user, threadTs: facts.threadTs };
    if (outcome.status === "queued") {
      await client.reactions.add({ channel: facts.channel, timestamp: facts.ts, name: "eyes" }).catch(() => undefined);
      const { leftOut } = newestAttachments(facts);
      if (leftOut && request.kind === "message") await tell(client, where, leftOutNote(leftOut)).catch((error) => log.warn({ err: error }, "could not tell the user about files left out"));
      if (facts.isDm) {
        const thread = { threadId: request.conversation.threadId, replyContext: request.replyContext ?? {} };
        await latestDmThreads.remember(facts.teamId, facts.channel, thread).catch((error) => log.warn({ err: error }, "could not remember the DM's latest thread"));
      }
      if (inAssistantThread && facts.threadTs && request.kind === "message" && (await assistantThreads.claimTitle(facts.teamId, facts.channel, facts.threadTs))) {
        await client.assistant.threads
          .setTitle({ channel_id: facts.channel, thread_ts: facts.threadTs, title: assistantTitle(request.text) })
          .catch((error) => log.warn({ err: error, requestId: request.eventId }, "could not set the assistant thread's title"));
      }
    } else if (outcome.status === "refused") {
      await tell(client, where, outcome.message);
    }
  }

  /** A DM message (top level, a thread, or an assistant thread: Bolt's Assistant hands those here). */
  async function onDirectMessage({ event, body, context, client }: DirectMessageArgs): Promise<void> {
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
  }

  // The assistant container: a greeting and suggested prompts when a thread starts; its messages
  // (which Bolt's Assistant takes before app.event("message") would) are DMs like any other. The
  // channel the user is looking at (thread context) is not used, so it is not stored either.
  app.assistant(
    new Assistant({
      threadStarted: async ({ event, body, client }) => {
        const { channel_id: channel, thread_ts: threadTs, user_id: user } = event.assistant_thread;
        const access = checkAccess(rules, { workspaceId: body.team_id, channelId: channel, userId: user, isDm: true });
        if (!access.allowed) {
          await client.chat.postMessage({ channel, thread_ts: threadTs, text: neutralizeMassMentions(access.reason), ...NO_UNFURL });
          return;
        }
        await assistantThreads.started(body.team_id, channel, threadTs);
        await client.chat.postMessage({ channel, thread_ts: threadTs, text: GREETING, ...NO_UNFURL });
        await client.assistant.threads.setSuggestedPrompts({ channel_id: channel, thread_ts: threadTs, title: "Try one of these:", prompts: SUGGESTED_PROMPTS });
      },
      threadContextChanged: async ({ event }) => {
        log.debug({ channel: event.assistant_thread.channel_id }, "assistant thread context changed (not used)");
      },
      userMessage: onDirectMessage,
    }),
  );

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
      isDm: isDmChannel(event.channel),
    });
  });

  app.event("message", onDirectMessage);

  for (const [name, kind] of Object.entries(SLASH_COMMANDS)) {
    app.command(name, async ({ command, ack, respond, client, context }) => {
      await ack();
      const say = (text: string) =>
        respond({ response_type: "ephemeral", text: neutralizeMassMentions(text) }).catch((error: unknown) => log.warn({ err: error, command: name }, "could not answer a slash command"));
      const argument = commandArgument(kind, command.text ?? "");
      if (argument === undefined) return void (await say(`Usage: ${name}${kind === "reset" ? "" : " [zip]"}`));
      if (!isDmChannel(command.channel_id)) return void (await say(inChannelHint(name, kind, argument, context.botUserId)));
      try {
        // The schedule commands need no earlier conversation: without one they act on the DM's top level.
        const latest = await latestDmThreads.latest(command.team_id, command.channel_id);
        const thread = latest ?? (SCHEDULE_KINDS.includes(kind as ScheduleKind) ? { threadId: command.channel_id, replyContext: {} } : undefined);
        if (!thread) return void (await say(`We have no conversation here yet: ask me something first, then ${name} acts on it.`));
        const facts = { teamId: command.team_id, channel: command.channel_id, user: command.user_id, userName: await userName(client, command.user_id), triggerId: command.trigger_id };
        const outcome = await intake.submit(slashCommandRequest(facts, { kind, text: argument }, thread), rules, true);
        if (outcome.status === "refused") await say(outcome.message);
        else if (outcome.status === "queued") await say(thread.replyContext.threadTs ? `On it: the answer comes in the thread we used last.` : "On it.");
      } catch (error) {
        log.error({ err: error, command: name }, "could not take a slash command");
        await say("Sorry, I couldn't take that just now: please try again in a moment.");
      }
    });
  }

  // Stop: only the person who asked (or one of ADMIN_USERS) stops the request; anyone else is told, alone.
  app.action(STOP_ACTION_ID, async ({ ack, action, body, client }) => {
    await ack();
    const eventId = "value" in action ? action.value : undefined;
    if (!eventId) return;
    const outcome = await intake.stop(eventId, { platform: "slack", userId: body.user.id });
    const channel = body.channel?.id;
    const message = "message" in body ? (body.message as { ts?: string; thread_ts?: string } | undefined) : undefined;
    if (outcome.status !== "stopping") {
      const text = outcome.status === "refused" ? stopRefusal(escapeMrkdwn(outcome.asker)) : STOP_TOO_LATE;
      if (channel) await tell(client, { channel, user: body.user.id, threadTs: message?.thread_ts }, text).catch((error) => log.warn({ err: error }, "could not answer a press of Stop"));
      return;
    }
    if (channel && message?.ts) await client.chat.update({ channel, ts: message.ts, text: ":octagonal_sign: Stopping…", blocks: [], ...NO_UNFURL }).catch(() => undefined);
  });

  // "Stop this schedule" under a scheduled run's answer: only its creator (or one of ADMIN_USERS) removes it; told alone either way.
  app.action(SCHEDULE_STOP_ACTION_ID, async ({ ack, action, body, client }) => {
    await ack();
    const id = "value" in action ? action.value : undefined;
    const channel = body.channel?.id;
    if (!id || !channel) return;
    const message = "message" in body ? (body.message as { thread_ts?: string } | undefined) : undefined;
    const text = schedules ? scheduleStopText(await schedules.stop(id, { platform: "slack", userId: body.user.id }), escapeMrkdwn) : "Schedules can't be changed here just now.";
    await tell(client, { channel, user: body.user.id, threadTs: message?.thread_ts }, text).catch((error) => log.warn({ err: error }, "could not answer a press of Stop this schedule"));
  });

  // A 👍/👎 under an answer: the button's value says which answer; the message says which thread
  // (an answer sits in its thread, or at a DM's top level).
  app.action(FEEDBACK_ACTION_ID, async ({ ack, action, body, client }) => {
    await ack();
    if (body.type !== "block_actions" || action.type !== "feedback_buttons") return;
    const click = parseFeedbackValue(action.value);
    const channel = body.channel?.id ?? (body.container as { channel_id?: string } | undefined)?.channel_id;
    const message = body.message as { ts?: string; thread_ts?: string } | undefined;
    const teamId = body.team?.id ?? body.user.team_id;
    if (!click || !channel || !message?.ts) return;
    const where = { channel, user: body.user.id, threadTs: message.thread_ts };
    const access = checkAccess(rules, { workspaceId: teamId, channelId: channel, userId: body.user.id, isDm: isDmChannel(channel) });
    if (!access.allowed) return void (await tell(client, where, access.reason).catch(() => undefined));
    const threadId = message.thread_ts ?? (isDmChannel(channel) ? channel : message.ts);
    const key = threadKey({ platform: "slack", workspaceId: teamId, channelId: channel, threadId });
    await feedback.record({ threadKey: key, eventId: click.eventId, userId: body.user.id, rating: click.rating, model: click.model, steps: click.steps, at: Date.now() });
    log.info({ requestId: click.eventId, user: body.user.id, rating: click.rating }, "feedback recorded");
    await tell(client, where, click.rating === "up" ? "Thanks for the feedback!" : "Thanks for the feedback: it helps make the answers better.").catch(() => undefined);
  });

  app.error(async (error) => {
    log.error({ err: error }, "slack listener failed");
  });
}
