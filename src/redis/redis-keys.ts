import { createHash } from "node:crypto";

export const TURN_QUEUE = "turns";

/** A BullMQ job id for an event id: stable (so a re-delivered event is the same job) and free of ':'. */
export function jobIdForEvent(eventId: string): string {
  return `ev-${createHash("sha256").update(eventId).digest("hex").slice(0, 40)}`;
}

/** Redis keys of codebot's own data, under the queue prefix so deployments and tests don't mix. */
export function keys(prefix: string) {
  return {
    event: (jobId: string) => `${prefix}:event:${jobId}`,
    thread: (threadKey: string, part: string) => `${prefix}:thread:{${threadKey}}:${part}`,
    usage: (kind: "user" | "thread", id: string) => `${prefix}:usage:${kind}:${id}`,
    blob: (id: string) => `${prefix}:blob:${id}`,
    localReplies: (eventId: string) => `${prefix}:local:replies:${eventId}`,
    cancelChannel: `${prefix}:cancel`,
    /** One thread's ratings (hash) and their order (sorted set), hash-tagged with the thread. */
    feedback: (threadKey: string, part: "ratings" | "order") => `${prefix}:feedback:{${threadKey}}:${part}`,
    /** The newest ratings of every thread (sorted set), for `codebot usage feedback`. */
    feedbackRecent: `${prefix}:feedback:recent`,
    /** Model names by the short hash Discord's button ids carry (hash). */
    feedbackModels: `${prefix}:feedback:models`,
    /** Slack: an assistant thread the bot has seen start (and whether it has its title yet). */
    assistantThread: (id: string) => `${prefix}:slack:assistant:${id}`,
    /** Slack: the conversation a user last had with the bot in a DM, for slash commands. */
    latestDmThread: (id: string) => `${prefix}:slack:latest-dm:${id}`,
    /**
     * Budgets: what one subject (`user:slack:U1`, `channel:slack:T1:C1`) used in one period
     * (`day:2025-01-31`, `month:2025-01`), a hash of tokens and exec_ms, hash-tagged with the subject.
     */
    budget: (subject: string, period: string) => `${prefix}:budget:{${subject}}:${period}`,
    /**
     * Budgets: what the subject's running turns may still spend (hash: turn id → "tokens execMs
     * expiresAt spentTokens"), held at each turn's admission and released when it ends; entries of a
     * worker that died expire on their own.
     */
    budgetHolds: (subject: string) => `${prefix}:budget:{${subject}}:holds`,
    /** Budgets: the executions of one turn already charged to the subject (set), so a replayed one isn't charged twice. */
    budgetCharged: (subject: string, turn: string) => `${prefix}:budget:{${subject}}:charged:${turn}`,
    /**
     * Usage history: the subjects (`user:…`, `channel:…`) charged in one day (`day:2025-01-31`), a
     * sorted set scored by when each was last charged; it expires with that day's counters, and
     * saves the admin page a SCAN of the keyspace.
     */
    usageSubjects: (period: string) => `${prefix}:usage:subjects:${period}`,
    /** The newest failed turns (a capped list of JSON entries), for the admin page. */
    recentFailures: `${prefix}:ops:failures`,
    /** Admin page: one worker's snapshot of the sessions it sees (JSON, with a TTL). */
    sessionSnapshot: (workerId: string) => `${prefix}:ops:sessions:${workerId}`,
    /** Admin page: the workers whose snapshots are fresh (sorted set, scored by when each goes stale). */
    sessionReporters: `${prefix}:ops:session-reporters`,
    /** Admin page: kill requests for sessions (pub/sub channel, every worker listens). */
    sessionKillChannel: `${prefix}:ops:session-kill`,
    /** Bytes one person (`slack:U1`) added to the export log in one day (`day:2025-01-31`), hash-tagged with them. */
    exportQuota: (owner: string, period: string) => `${prefix}:export-quota:{${owner}}:${period}`,
  };
}
export type Keys = ReturnType<typeof keys>;
