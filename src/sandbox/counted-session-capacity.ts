import type { ReserveOutcome, SessionCapacity } from "./session-capacity.js";

/**
 * Capacity without Redis (`codebot exec`, `codebot sessions`): counts the live sessions its
 * backend lists (SandboxProvider.listSessions), whatever the backend. Not atomic across processes,
 * no per-user cap and no eviction (nothing records who uses a session or when); the workers' Redis
 * capacity is the one that holds under load.
 */
export class CountedSessionCapacity implements SessionCapacity {
  constructor(
    private readonly maxSessions: number,
    private readonly countLive: () => Promise<number>,
  ) {}

  async reserve(): Promise<ReserveOutcome> {
    const live = await this.countLive();
    return live < this.maxSessions ? { kind: "reserved", evicted: [] } : { kind: "full", scope: "total", held: live, limit: this.maxSessions, leaving: 0 };
  }

  async begin(): Promise<"ok"> {
    return "ok";
  }

  /** Nothing records use without Redis: a session is hibernated when asked, and none is known idle. */
  async startHibernation(): Promise<boolean> {
    return true;
  }

  async endHibernation(): Promise<void> {}

  async hibernating(): Promise<boolean> {
    return false;
  }

  async idle(): Promise<string[]> {
    return [];
  }

  async end(): Promise<void> {}

  async release(): Promise<void> {}

  count(): Promise<number> {
    return this.countLive();
  }

  async reconcile(): Promise<number> {
    return 0;
  }
}
