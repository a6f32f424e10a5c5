import type { SessionInfo } from "../sandbox/sandbox-engine.js";
import type { WorkspaceSummary } from "../workspace/thread-workspaces.js";

/** One sandbox session as `codebot sessions list` and the admin page show it. */
export interface SessionRow {
  sessionId: string;
  state: "running" | "sleeping";
  /** The backend's short id of its sandbox (SessionInfo.sandboxId); the field keeps its name in `sessions list --json` and the admin page's snapshots. */
  containerId?: string;
  createdAt?: string;
  status?: string;
  files?: number;
  bytes?: number;
  lastUsedAt?: string;
  deletedAfter?: string;
}

/** Bytes as B, KB or MB; "-" for none. */
export function sizeText(bytes: number | undefined): string {
  if (bytes === undefined) return "-";
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

/** Running sessions from the engine, sleeping ones from the workspace store (a running one shows its workspace too). */
export function sessionRows(running: SessionInfo[], workspaces: WorkspaceSummary[]): SessionRow[] {
  const saved = new Map(workspaces.map((workspace) => [workspace.sessionId, workspace]));
  const workspaceFields = (workspace: WorkspaceSummary | undefined) =>
    workspace ? { files: workspace.files, bytes: workspace.bytes, lastUsedAt: workspace.updatedAt.toISOString(), deletedAfter: workspace.expiresAt.toISOString() } : {};
  const live: SessionRow[] = running.map((session) => ({
    sessionId: session.sessionId,
    state: "running",
    containerId: session.sandboxId,
    createdAt: session.createdAt.toISOString(),
    status: session.status,
    ...workspaceFields(saved.get(session.sessionId)),
  }));
  const liveIds = new Set(running.map((session) => session.sessionId));
  const sleeping: SessionRow[] = workspaces.filter((workspace) => !liveIds.has(workspace.sessionId)).map((workspace) => ({ sessionId: workspace.sessionId, state: "sleeping", ...workspaceFields(workspace) }));
  return [...live, ...sleeping];
}
