/**
 * Who may hold a live sandbox session. A slot is reserved before a session's sandbox starts and
 * released when it ends; a session in use is marked busy (with a lease, so a crashed process can't
 * pin it), and a full store ends (or puts to sleep) its least recently used idle session rather than
 * refuse a new one. Slots are keyed by the session's sandbox name, which every codebot process
 * derives the same way.
 */
export interface SessionCapacity {
  /**
   * Takes a slot for a session about to start (busy until `end` or leaseMs). When a cap is reached
   * and `evict` is set, idle sessions are picked to make room (least recently used first): they are
   * marked as being hibernated (for leaseMs; `begin` refuses them) and the caller ends them, then
   * calls `endHibernation` for each. Else it is full.
   */
  reserve(request: SlotRequest & { evict: boolean }): Promise<ReserveOutcome>;
  /**
   * Marks a live session busy until `end` or leaseMs; a live session with no slot gets one, over the
   * caps if need be. "hibernating": it is being put to sleep, nothing was changed, and the caller
   * must not use it (it waits for the hibernation to end, then opens the session afresh).
   */
  begin(request: SlotRequest): Promise<"ok" | "hibernating">;
  /** The session is idle from now on (its last use is now). */
  end(key: string): Promise<void>;
  /** The session ended: its slot is free. */
  release(key: string): Promise<void>;
  /**
   * Marks an idle session as being hibernated (for up to leaseMs): true only if it is not in use and
   * has been idle for at least idleMs. Then `begin` refuses it until `endHibernation`. With idleMs 0,
   * a live session that has no slot (opened by a process without Redis) is adopted and marked.
   */
  startHibernation(key: string, idleMs: number, leaseMs: number): Promise<boolean>;
  /** The hibernation is over (the session's sandbox is gone): its slot is free, unless the session was opened again meanwhile. */
  endHibernation(key: string): Promise<void>;
  /** Whether the session is being hibernated now. */
  hibernating(key: string): Promise<boolean>;
  /** Keys of sessions idle for at least idleMs and not in use or hibernating. */
  idle(idleMs: number): Promise<string[]>;
  /** How many sessions hold a slot now (running, or starting): a host's load, for placement. */
  count(): Promise<number>;
  /** Frees the slots of sessions that are not live (`live` lists the keys of live sessions). Returns how many. */
  reconcile(live: () => Promise<string[]>): Promise<number>;
}

export interface SlotRequest {
  key: string;
  /** Who opened the session (`slack:U123`); none: no per-user cap applies. */
  owner?: string;
  leaseMs: number;
}

export type ReserveOutcome =
  /** evicted: keys of idle sessions whose slots were taken: the caller ends them before starting. */
  | { kind: "reserved"; evicted: string[] }
  /** leaving: how many of the held sessions are being put to sleep (their slots free up within seconds). */
  | { kind: "full"; scope: "total" | "user"; held: number; limit: number; leaving: number };
