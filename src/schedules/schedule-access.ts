import { checkAccess, type AccessDecision, type AccessRules } from "../core/access-policy.js";
import type { Platform } from "../core/chat-request.js";
import type { Config } from "../config.js";
import type { Schedule } from "./schedule-record.js";

/** Each platform's access rules, as its bot adapter applies them; the local chat has none (whoever runs the CLI may). */
export type RulesByPlatform = Partial<Record<Platform, AccessRules>>;

/** The access rules of the configured platforms, read from the same variables the bot's adapters read. */
export function accessRulesOf(config: Config): RulesByPlatform {
  return {
    slack: { workspaces: [], channels: config.SLACK_ALLOWED_CHANNELS, users: config.SLACK_ALLOWED_USERS, allowDms: config.SLACK_ALLOW_DMS },
    discord: { workspaces: config.DISCORD_ALLOWED_GUILDS, channels: config.DISCORD_ALLOWED_CHANNELS, users: config.DISCORD_ALLOWED_USERS, allowDms: config.DISCORD_ALLOW_DMS },
  };
}

/**
 * Whether a schedule's creator may still use the bot where the schedule runs: judged with the rules
 * in force now, as their message would be (the channel and DM-ness judged at its creation), at its
 * creation and again before each run. A person removed from SLACK_ALLOWED_USERS (or a channel from
 * SLACK_ALLOWED_CHANNELS) has their schedules' runs refused from then on.
 */
export function scheduleAccess(rules: RulesByPlatform, schedule: Pick<Schedule, "conversation" | "creator" | "access">): AccessDecision {
  const platformRules = rules[schedule.conversation.platform];
  if (!platformRules) return { allowed: true };
  const { conversation, creator, access } = schedule;
  return checkAccess(platformRules, { workspaceId: conversation.workspaceId, channelId: access?.channelId ?? conversation.channelId, userId: creator.id, isDm: access?.isDm ?? false });
}
