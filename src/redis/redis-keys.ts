import { createHash } from "node:crypto";

/**
 * Every Redis key and channel codebot uses, for every subsystem, in one place. Nothing else in
 * src/ spells a key: a module gets the `Keys` of its deployment and asks them.
 *
 * All keys sit under the deployment's prefix (QUEUE_PREFIX, "codebot" by default), so deployments
 * and tests sharing one Redis never mix. A thread's keys, a budget subject's and an export owner's
 * carry a `{hash tag}` so that the keys one Lua script touches land on one Redis Cluster slot.
 * The strings are part of the data: changing one orphans what a running deployment stored under it.
 */

/** The BullMQ queue of turns: BullMQ keeps its own keys under `<prefix>:turns:*`. */
export const TURN_QUEUE = "turns";

/** A BullMQ job id for an event id: stable (so a re-delivered event is the same job) and free of ':'. */
export function jobIdForEvent(eventId: string): string {
  return `ev-${createHash("sha256").update(eventId).digest("hex").slice(0, 40)}`;
}

/**
 * The parts of a thread's state, each a key hash-tagged with the thread:
 * - queue: `seq` (the last place given), `next` (the place whose turn runs next), `jobs` (place →
 *   job id), `gap:<seq>` (a place whose job never came, skipped after a moment);
 * - agent: `turns` (the conversation the model sees);
 * - export: `export` (the turns recorded for /export) and `export-bytes` (their size).
 */
export type ThreadPart = "seq" | "next" | "jobs" | `gap:${number}` | "turns" | "export" | "export-bytes";

/** The Redis keys of one deployment (its QUEUE_PREFIX). */
export function keys(prefix: string) {
  return {
    // ── queue (src/queue/) ─────────────────────────────────────────────────────────────────────
    /** One platform event's claim: its place in the thread and whether its job arrived (string, a day). */
    event: (jobId: string) => `${prefix}:event:${jobId}`,
    /** One part of a thread's state (see ThreadPart), hash-tagged with the thread. */
    thread: (threadKey: string, part: ThreadPart) => `${prefix}:thread:{${threadKey}}:${part}`,
    /** Stop requests for running turns (pub/sub channel, every worker listens). */
    cancelChannel: `${prefix}:cancel`,
    /** A stop request for one turn, for a worker that starts it after the message went by (string, short TTL). */
    cancelFlag: (eventId: string) => `${prefix}:cancel:${eventId}`,
    /** One turn that no worker could finish has been reported to its user (string, a day), so only one worker tells. */
    stalledReported: (jobId: string) => `${prefix}:reported:${jobId}`,
    /** Requests one user (`slack:U1`) made in one minute (`window`: minutes since the epoch), for USER_RATE_LIMIT_PER_MINUTE. */
    rate: (userKey: string, window: number) => `${prefix}:rate:${userKey}:${window}`,

    // ── agent (src/agent/) ─────────────────────────────────────────────────────────────────────
    /** Running totals of tokens and requests per user or per thread (hash). */
    usage: (kind: "user" | "thread", id: string) => `${prefix}:usage:${kind}:${id}`,

    // ── platforms (src/platforms/, src/bot/) ───────────────────────────────────────────────────
    /** Local chat: the bytes of a file `codebot ask --attach` sent (string, with a TTL). */
    blob: (id: string) => `${prefix}:blob:${id}`,
    /** Local chat: one request's answer events, as the worker delivers them (stream). */
    localReplies: (eventId: string) => `${prefix}:local:replies:${eventId}`,
    /** Slack: an assistant thread the bot has seen start (and whether it has its title yet). */
    assistantThread: (id: string) => `${prefix}:slack:assistant:${id}`,
    /** Slack: the conversation a user last had with the bot in a DM, for slash commands. */
    latestDmThread: (id: string) => `${prefix}:slack:latest-dm:${id}`,

    // ── feedback (src/feedback/) ───────────────────────────────────────────────────────────────
    /** One thread's ratings (hash) and their order (sorted set), hash-tagged with the thread. */
    feedback: (threadKey: string, part: "ratings" | "order") => `${prefix}:feedback:{${threadKey}}:${part}`,
    /** The newest ratings of every thread (sorted set), for `codebot usage feedback`. */
    feedbackRecent: `${prefix}:feedback:recent`,
    /** Model names by the short hash Discord's button ids carry (hash). */
    feedbackModels: `${prefix}:feedback:models`,

    // ── budget (src/budget/) ───────────────────────────────────────────────────────────────────
    /**
     * What one subject (`user:slack:U1`, `channel:slack:T1:C1`) used in one period
     * (`day:2025-01-31`, `month:2025-01`), a hash of tokens and exec_ms, hash-tagged with the subject.
     */
    budget: (subject: string, period: string) => `${prefix}:budget:{${subject}}:${period}`,
    /**
     * What the subject's running turns may still spend (hash: turn id → "tokens execMs
     * expiresAt spentTokens"), held at each turn's admission and released when it ends; entries of a
     * worker that died expire on their own.
     */
    budgetHolds: (subject: string) => `${prefix}:budget:{${subject}}:holds`,
    /** The executions of one turn already charged to the subject (set), so a replayed one isn't charged twice. */
    budgetCharged: (subject: string, turn: string) => `${prefix}:budget:{${subject}}:charged:${turn}`,
    /**
     * The subjects (`user:…`, `channel:…`) charged in one day (`day:2025-01-31`), a sorted set scored
     * by when each was last charged; it expires with that day's counters, and saves the admin page a
     * SCAN of the keyspace.
     */
    usageSubjects: (period: string) => `${prefix}:usage:subjects:${period}`,

    // ── export (src/export/) ───────────────────────────────────────────────────────────────────
    /** Bytes one person (`slack:U1`) added to the export log in one day (`day:2025-01-31`), hash-tagged with them. */
    exportQuota: (owner: string, period: string) => `${prefix}:export-quota:{${owner}}:${period}`,

    // ── ops and the admin page (src/ops/, src/admin/) ──────────────────────────────────────────
    /** The newest failed turns (a capped list of JSON entries), for the admin page. */
    recentFailures: `${prefix}:ops:failures`,
    /** One worker's snapshot of the sessions it sees (JSON, with a TTL). */
    sessionSnapshot: (workerId: string) => `${prefix}:ops:sessions:${workerId}`,
    /** The workers whose snapshots are fresh (sorted set, scored by when each goes stale). */
    sessionReporters: `${prefix}:ops:session-reporters`,
    /** Kill requests for sessions (pub/sub channel, every worker listens). */
    sessionKillChannel: `${prefix}:ops:session-kill`,

    // ── sandboxes and the fleet (src/sandbox/, src/fleet/), per SANDBOX_NAMESPACE ──────────────
    /** The slots of one engine's sessions, session → owner, last use and lease (hash): the namespace's engine, or one fleet host's. */
    sandboxSlots: (namespace: string, hostKey?: string) => `${prefix}:sandbox-slots:${namespace}${hostKey ? `:${hostKey}` : ""}`,
    /** Fleet: failed health checks in a row, per host (hash). */
    fleetFailures: (namespace: string) => `${prefix}:fleet:${namespace}:failures`,
    /** Fleet: the hosts drained by an admin (set). */
    fleetDrained: (namespace: string) => `${prefix}:fleet:${namespace}:drained`,
    /** Fleet: the catalog, session id → its placement (host and generation, JSON) (hash). */
    fleetPlacement: (namespace: string) => `${prefix}:fleet:${namespace}:placement`,
    /** Fleet: each session's placement count, so a stale placement is told from a fresh one (hash). */
    fleetGeneration: (namespace: string) => `${prefix}:fleet:${namespace}:generation`,
  };
}
export type Keys = ReturnType<typeof keys>;
