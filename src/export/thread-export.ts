import { formatCount, inlineCode, summarizeList, displayNote } from "../core/display-text.js";
import type { ChatRequest } from "../core/chat-request.js";
import { commandReply, type Answer, type OutgoingFile } from "../core/reply.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import { zipSessionFiles } from "./files-zip.js";
import { buildNotebook, exportBaseName, notebookFile, type NotebookFacts } from "./notebook.js";
import type { ThreadLog } from "./thread-log.js";

/**
 * The replies of /export (the thread as a notebook; "zip": its files too) and /files zip: a
 * command reply with the files attached, saying what was left out.
 */

const NOTHING_YET = "Nothing to export yet: this thread has no recorded turns (a turn is recorded once it is answered).";

function factsOf(request: ChatRequest, now = new Date()): NotebookFacts {
  return { threadName: request.conversation.threadId, exportedAt: now };
}

/** What a zip of the session's files adds to a reply: the file and a line about it. */
async function filesPart(sandboxes: Sandboxes, sessionId: string, facts: NotebookFacts): Promise<{ file?: OutgoingFile; lines: string[] }> {
  const zip = await zipSessionFiles(sandboxes, sessionId);
  const skipped = summarizeList(zip.skipped.map((note) => `- ${inlineCode(displayNote(note), 200)}`));
  const left = skipped.length ? [`Left out of the zip (${formatCount(zip.skipped.length)}):`, ...skipped] : [];
  if (!zip.data) return { lines: [zip.skipped.length ? "No file of this thread's session could be zipped." : "No files in this thread's session to zip.", ...left] };
  const name = `${exportBaseName(facts)}-files.zip`;
  return { file: { name, mime: "application/zip", data: zip.data }, lines: [`The session's files as ${inlineCode(name)} (${formatCount(zip.entries.length)} ${zip.entries.length === 1 ? "file" : "files"}).`, ...left] };
}

/** /files zip: the session's files as one zip. */
export async function filesZipReply(sandboxes: Sandboxes, request: ChatRequest, sessionId: string): Promise<Answer> {
  const part = await filesPart(sandboxes, sessionId, factsOf(request));
  return commandReply(part.lines.join("\n"), part.file ? [part.file] : []);
}

/** /export: the thread as a Jupyter notebook, and with "zip" the session's files as a zip. */
export async function exportReply(threadLog: ThreadLog | undefined, sandboxes: Sandboxes, request: ChatRequest, sessionId: string): Promise<Answer> {
  const facts = factsOf(request);
  const withZip = request.text.trim().toLowerCase() === "zip";
  const lines: string[] = [];
  const files: OutgoingFile[] = [];
  const turns = threadLog ? await threadLog.turns(sessionId) : [];
  if (!threadLog) lines.push("Nothing to export: this worker doesn't record threads for export.");
  else if (!turns.length) lines.push(NOTHING_YET);
  else {
    const notebook = await buildNotebook(turns, facts);
    const file = notebookFile(notebook, facts);
    const cells = notebook.cells.filter((cell) => cell.cell_type === "code").length;
    files.push({ name: file.name, mime: "application/x-ipynb+json", data: file.data });
    lines.push(`This thread as a Jupyter notebook: ${inlineCode(file.name)} (${formatCount(turns.length)} ${turns.length === 1 ? "turn" : "turns"}, ${formatCount(cells)} code ${cells === 1 ? "cell" : "cells"}).`);
  }
  if (withZip) {
    const part = await filesPart(sandboxes, sessionId, facts);
    if (part.file) files.push(part.file);
    lines.push(...part.lines);
  }
  return commandReply(lines.join("\n"), files);
}
