import { checkAccess, type AccessDecision, type AccessRules } from "../core/access-policy.js";
import type { Platform } from "../core/chat-request.js";
import type { Schedule } from "./schedule-record.js";

/** Each platform's access rules, as its adapter applies them (PlatformAdapter.accessRules); the local chat has none (whoever runs the CLI may). */
export type RulesByPlatform = Partial<Record<Platform, AccessRules>>;

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
