import type { Logger } from "../log.js";
import type { SandboxSession } from "../sandbox/sandbox-session.js";
import type { SessionEvents } from "../sandbox/session-events.js";
import type { SessionHooks } from "../sandbox/session-hooks.js";
import { describeResume, RESUME_FAILED_NOTE } from "./resume-report.js";
import { SaveQueue } from "./save-queue.js";
import type { ThreadWorkspaces } from "./thread-workspaces.js";

/** What a fresh session's resume said, for its first execution's result. */
export interface ResumeNote {
  notes: string[];
  stateLost: boolean;
}

/**
 * Durable workspaces' side of a session's life, given to the backend at its construction
 * (SessionHooks) and subscribed to its events: a fresh session gets its thread's files and
 * variables back before anything runs in it; an evicted one sleeps with its variables saved, once
 * the saves in flight are done. Holds what DurableSandboxes shares with the hooks: the saves in
 * flight and what each resume said.
 */
export class WorkspaceHooks implements SessionHooks, SessionEvents {
  readonly saves = new SaveQueue();
  private readonly resumed = new Map<string, ResumeNote>();

  constructor(
    readonly workspaces: ThreadWorkspaces,
    private readonly events: SessionEvents,
    private readonly log: Logger,
  ) {}

  /** A session just started: the thread's workspace goes back in; what went wrong is said at its first execution. */
  async prepare(sessionId: string, session: SandboxSession): Promise<void> {
    try {
      const report = await this.workspaces.restore(sessionId, session);
      if (!report) {
        this.resumed.delete(sessionId);
        return;
      }
      this.resumed.set(sessionId, describeResume(report));
      this.events.onResumed?.({ sessionId, files: report.files, bytes: report.bytes, variables: report.state.kind === "restored" });
    } catch (error) {
      this.log.warn({ err: error, sessionId }, "could not resume the thread's workspace");
      this.resumed.set(sessionId, { notes: [RESUME_FAILED_NOTE], stateLost: true });
    }
  }

  /** A session makes room for another: its saves in flight finish, then its variables are saved. */
  async sleep(sessionId: string, session: SandboxSession): Promise<void> {
    await this.saves.saved(sessionId);
    await this.workspaces.saveState(sessionId, session);
  }

  /** What the session's resume said, once (for its first execution). */
  takeResumed(sessionId: string): ResumeNote | undefined {
    const note = this.resumed.get(sessionId);
    this.resumed.delete(sessionId);
    return note;
  }

  /** A session whose sandbox is gone has no resume left to tell. */
  onSessionEnded({ sessionId }: { sessionId: string }): void {
    this.resumed.delete(sessionId);
  }
}
