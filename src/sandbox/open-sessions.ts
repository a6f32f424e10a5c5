import type { SandboxSession } from "./sandbox-session.js";
import type { SessionNaming } from "./session-naming.js";

/**
 * The sessions one process has open (attached), by session id: each opened once however many ask
 * at once, forgotten when its connection closes or its sandbox goes, so the next use opens it again.
 */
export class OpenSessions {
  private readonly open = new Map<string, Promise<SandboxSession>>();

  constructor(
    private readonly naming: SessionNaming,
    /** Attaches to the session's sandbox, or starts one. */
    private readonly opener: (sessionId: string, owner: string | undefined) => Promise<SandboxSession>,
    /** Called with each session once it is open, and again once it closed. */
    private readonly watch: { opened(session: SandboxSession): void; closed(session: SandboxSession): void },
  ) {}

  /** The open session, or the one being opened; opened now if neither. */
  get(sessionId: string, owner?: string): Promise<SandboxSession> {
    const existing = this.open.get(sessionId);
    if (existing) return existing;
    const opening = this.opener(sessionId, owner);
    this.open.set(sessionId, opening);
    opening.then(
      (session) => {
        this.watch.opened(session);
        session.onClose(() => {
          if (this.open.get(sessionId) === opening) this.open.delete(sessionId);
          this.watch.closed(session);
        });
      },
      () => this.open.delete(sessionId),
    );
    return opening;
  }

  /** The session if it is open here (never opened for this). */
  async cached(sessionId: string): Promise<SandboxSession | undefined> {
    return this.open.get(sessionId)?.catch(() => undefined);
  }

  ids(): string[] {
    return [...this.open.keys()];
  }

  /** Forgets the session of that sandbox name here (the next use opens it again); returns how to detach from what was open. */
  drop(name: string): () => void {
    const dropped: Array<Promise<SandboxSession>> = [];
    for (const [sessionId, opening] of this.open) {
      if (this.naming.sessionName(sessionId) !== name) continue;
      this.open.delete(sessionId);
      dropped.push(opening);
    }
    return () => {
      for (const opening of dropped) opening.then((session) => session.detach(), () => undefined);
    };
  }

  /** Detaches from every open session (their sandboxes keep running) and forgets them. */
  async detachAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((opening) => opening.then((session) => session.detach(), () => undefined)));
  }

  /** Forgets every session without detaching (their sandboxes were removed). */
  clear(): void {
    this.open.clear();
  }
}
