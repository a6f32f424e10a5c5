import type { Logger } from "../log.js";

/** Why a session's sandbox is gone: ended on purpose (/reset, `sessions kill`), put to sleep, made room for another, or lost (it broke or stopped during an execution). */
export type SessionEndReason = "killed" | "hibernated" | "evicted" | "lost";

/**
 * What happens in sessions' lives, told to whoever listens (metrics, durable workspaces): each
 * method is optional, called synchronously after the fact, and must neither throw nor wait (a
 * listener that throws is logged and skipped). `host` names the engine of a fleet (SANDBOX_HOSTS);
 * none with one engine. Events carry session ids: a listener must not turn them into metric labels.
 */
export interface SessionEvents {
  /** A warm sandbox was asked for to start a session: hit (one was granted) or miss (a cold start follows). */
  onPoolClaim?(event: { host?: string; hit: boolean }): void;
  /** A session started in a new sandbox (warm: from the pool) and was prepared (resumed); it is about to be used. */
  onFreshSession?(event: { sessionId: string; host?: string; warm: boolean }): void;
  /** Durable workspaces put a thread's saved files (and variables, when a snapshot was kept) into its fresh session. */
  onResumed?(event: { sessionId: string; files: number; bytes: number; variables: boolean }): void;
  /** A session went to sleep: its variables saved (when it could be attached), its sandbox removed, its slot freed. */
  onHibernated?(event: { sessionId: string; host?: string; evicted: boolean }): void;
  /** A session made room for a new one: it slept (hibernated) or its sandbox was removed with its variables. sessionId: none when its name is a hash. */
  onEvicted?(event: { sessionId?: string; host?: string; hibernated: boolean }): void;
  /** A session's sandbox is gone (after onHibernated and onEvicted, when they apply). */
  onSessionEnded?(event: { sessionId: string; host?: string; reason: SessionEndReason }): void;
}

type EventName = keyof SessionEvents;
type EventOf<K extends EventName> = Parameters<NonNullable<SessionEvents[K]>>[0];

/**
 * The one SessionEvents a process's backends and workspaces tell: it passes each event on to every
 * subscriber, in the order they subscribed.
 */
export class SessionEventHub implements Required<SessionEvents> {
  private readonly listeners = new Set<SessionEvents>();

  constructor(private readonly log?: Logger) {}

  /** Adds a listener; returns how to remove it. */
  subscribe(listener: SessionEvents): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  onPoolClaim(event: EventOf<"onPoolClaim">): void {
    this.tell("onPoolClaim", event);
  }

  onFreshSession(event: EventOf<"onFreshSession">): void {
    this.tell("onFreshSession", event);
  }

  onResumed(event: EventOf<"onResumed">): void {
    this.tell("onResumed", event);
  }

  onHibernated(event: EventOf<"onHibernated">): void {
    this.tell("onHibernated", event);
  }

  onEvicted(event: EventOf<"onEvicted">): void {
    this.tell("onEvicted", event);
  }

  onSessionEnded(event: EventOf<"onSessionEnded">): void {
    this.tell("onSessionEnded", event);
  }

  private tell<K extends EventName>(name: K, event: EventOf<K>): void {
    for (const listener of this.listeners) {
      try {
        (listener[name] as ((event: EventOf<K>) => void) | undefined)?.call(listener, event);
      } catch (error) {
        this.log?.warn({ err: error, event: name }, "a listener of session events failed");
      }
    }
  }
}
