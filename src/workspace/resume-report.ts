/** What bringing a thread's workspace back into a fresh sandbox did. */
export interface ResumeReport {
  files: number;
  bytes: number;
  /** Files the workspace listed but the store no longer had. */
  missing: string[];
  state: { kind: "none" } | { kind: "restored"; at: string; failed: string[] };
  /** What the save of variables at hibernation could not keep, or why it kept nothing. */
  stateNotes: string[];
  /** When the files were last saved (ISO). */
  filesAt: string;
  /** When the session went to sleep (ISO); null after a hard stop. */
  hibernatedAt: string | null;
}

function listed(items: string[], max = 8): string {
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** "14:02 UTC" (or "Mar 3, 14:02 UTC" when not today). */
export function shortTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const time = `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")} UTC`;
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return time;
  return `${at.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })}, ${time}`;
}

/**
 * The plain-language notes for the thread (and the model) about a resume, and whether variables
 * were lost. A session that slept and woke with everything says nothing.
 */
export function describeResume(report: ResumeReport, now = new Date()): { notes: string[]; stateLost: boolean } {
  const notes: string[] = [];
  const files = report.files === 1 ? "its file is back" : report.files ? `its ${report.files} files are back` : "it had no files";
  let stateLost = false;
  if (report.state.kind === "restored") {
    const lost = [...report.stateNotes, ...report.state.failed];
    if (lost.length) {
      notes.push(`This thread's session had gone to sleep while idle and is back with its files and variables, except ${listed(lost)}: these could not be kept and must be recreated.`);
    }
  } else if (report.hibernatedAt) {
    stateLost = true;
    const why = report.stateNotes[0] ? ` (${report.stateNotes[0]})` : "";
    notes.push(`This thread's session had gone to sleep while idle: ${files}, but its variables could not be kept${why} and must be loaded again.`);
  } else {
    stateLost = true;
    notes.push(
      `This thread's earlier Python session ended unexpectedly: ${files} as of ${shortTime(report.filesAt, now)}, ` +
        "but variables from before then were lost and must be loaded again.",
    );
  }
  if (report.missing.length) notes.push(`${report.missing.length} saved files could not be found in the workspace store: ${listed(report.missing)}.`);
  return { notes, stateLost };
}

/** When the store can't be read at a resume: the session runs, empty, and says so. */
export const RESUME_FAILED_NOTE =
  "This thread's saved files and variables could not be brought back (the workspace store did not answer): this ran in an empty session.";
