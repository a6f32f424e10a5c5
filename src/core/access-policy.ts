/** Who may use the bot where: optional allowlists (empty = everyone) and DMs on or off. */
export interface AccessRules {
  workspaces: string[];
  channels: string[];
  users: string[];
  allowDms: boolean;
}

export interface AccessSubject {
  workspaceId?: string;
  channelId: string;
  userId: string;
  isDm: boolean;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

export function checkAccess(rules: AccessRules, subject: AccessSubject): AccessDecision {
  if (subject.isDm && !rules.allowDms) return { allowed: false, reason: "I don't take direct messages here: mention me in a channel instead." };
  if (!subject.isDm && rules.workspaces.length && !rules.workspaces.includes(subject.workspaceId ?? "")) {
    return { allowed: false, reason: "I'm not enabled on this server." };
  }
  if (!subject.isDm && rules.channels.length && !rules.channels.includes(subject.channelId)) {
    return { allowed: false, reason: "I'm not enabled in this channel: ask an admin, or mention me in one where I am." };
  }
  if (rules.users.length && !rules.users.includes(subject.userId)) return { allowed: false, reason: "Sorry, you're not on the list of people who can use me." };
  return { allowed: true };
}
