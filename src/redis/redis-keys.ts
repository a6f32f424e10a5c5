import { createHash } from "node:crypto";

/**
 * Every Redis key and channel of every subsystem, in one place: nothing else in src/ spells one.
 * All sit under the deployment's prefix (QUEUE_PREFIX); a thread's, a budget subject's and an
 * export owner's keys carry a {hash tag}, so one Lua script's keys share a Redis Cluster slot.
 * The strings are data: changing one orphans what a running deployment stored under it.
 */

/** The BullMQ queue of turns: BullMQ keeps its own keys under `<prefix>:turns:*`. */
export const TURN_QUEUE = "turns";
/** The BullMQ queue whose job schedulers fire each run of a schedule (src/schedules/): BullMQ's keys under `<prefix>:schedules:*`. */
export const SCHEDULE_QUEUE = "schedules";

/** A BullMQ job id for an event id: stable (so a re-delivered event is the same job) and free of ':'. */
export function jobIdForEvent(eventId: string): string {
  return `ev-${createHash("sha256").update(eventId).digest("hex").slice(0, 40)}`;
}

/**
 * A thread's parts: the queue's `seq`, `next`, `jobs` and `gap:<seq>` (its order), the agent's
 * `turns` (the conversation), the export's `export` and `export-bytes` (the turns kept for /export).
 */
export type ThreadPart = "seq" | "next" | "jobs" | `gap:${number}` | "turns" | "export" | "export-bytes";

/** Redis keys of codebot's own data, under the queue prefix so deployments and tests don't mix. */
export function keys(prefix: string) {
  return {
    /** A platform event's claim: its place in the thread, whether its job arrived. */
    event: (jobId: string) => `${prefix}:event:${jobId}`,
    thread: (threadKey: string, part: ThreadPart) => `${prefix}:thread:{${threadKey}}:${part}`,
    /** Tokens and requests so far, per user or per thread (hash). */
    usage: (kind: "user" | "thread", id: string) => `${prefix}:usage:${kind}:${id}`,
    /** Local chat: a file `ask --attach` sent (string, with a TTL). */
    blob: (id: string) => `${prefix}:blob:${id}`,
    /** Local chat: one request's answer events (stream). */
    localReplies: (eventId: string) => `${prefix}:local:replies:${eventId}`,
    /** Stop requests for running turns (pub/sub channel, every worker listens). */
    cancelChannel: `${prefix}:cancel`,
    /** A stop asked for one turn, for a worker that starts it after the message went by. */
    cancelFlag: (eventId: string) => `${prefix}:cancel:${eventId}`,
    /** A turn no worker could finish has been reported to its user, so that one worker tells. */
    stalledReported: (jobId: string) => `${prefix}:reported:${jobId}`,
    /** Requests one user made in one minute (`window`: minutes since the epoch). */
    rate: (userKey: string, window: number) => `${prefix}:rate:${userKey}:${window}`,
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
    /** Data sources (src/datasources/): one UTC day's calls (`day:2025-01-31`), a hash of `source\toutcome` → count. */
    sourceCalls: (period: string) => `${prefix}:sources:calls:${period}`,
    /** Data sources: the newest failed calls (a capped list of JSON entries), for the admin page. */
    sourceFailures: `${prefix}:sources:failures`,
    /** Sandboxes: one engine's session slots (hash): the namespace's engine, or a fleet host's. */
    sandboxSlots: (namespace: string, hostKey?: string) => `${prefix}:sandbox-slots:${namespace}${hostKey ? `:${hostKey}` : ""}`,
    /** Fleet: failed health checks in a row per host (hash), drained hosts (set). */
    fleetFailures: (namespace: string) => `${prefix}:fleet:${namespace}:failures`,
    fleetDrained: (namespace: string) => `${prefix}:fleet:${namespace}:drained`,
    /** Fleet: the catalog, session → host (hash), and each session's placement count (hash). */
    fleetPlacement: (namespace: string) => `${prefix}:fleet:${namespace}:placement`,
    fleetGeneration: (namespace: string) => `${prefix}:fleet:${namespace}:generation`,
    /**
     * Schedules (src/schedules/): one schedule (hash: its record as JSON, paused, failures in a row,
     * its last run as JSON). Every schedule key shares the {schedules} hash tag, so the store's Lua
     * scripts (which touch a schedule and the sets naming it) keep to one Redis Cluster slot.
     */
    schedule: (id: string) => `${prefix}:{schedules}:schedule:${id}`,
    /** Schedules: the ids of one thread's schedules (set). */
    threadSchedules: (threadKey: string) => `${prefix}:{schedules}:thread:${threadKey}`,
    /** Schedules: the ids of one person's (`slack:U1`) schedules (set): its size is what SCHEDULE_MAX_PER_USER caps. */
    ownerSchedules: (owner: string) => `${prefix}:{schedules}:owner:${owner}`,
    /** Schedules: every schedule's id (sorted set, scored by creation time), for `codebot schedules list` and the admin page. */
    allSchedules: `${prefix}:{schedules}:all`,
  };
}
export type Keys = ReturnType<typeof keys>;
