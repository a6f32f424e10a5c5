import type { KnownBlock, MessageAttachment } from "@slack/web-api";
import { displayName, displayNote, summarizeList } from "../../core/display-text.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import type { Answer, OutgoingFile } from "../../core/reply.js";
import { stepLine } from "./slack-draft-message.js";
import { feedbackBlock } from "./slack-feedback.js";
import { markdownBlocks } from "./slack-markdown-blocks.js";
import { escapeMrkdwn, markdownToMrkdwn } from "./slack-markdown.js";
import { slackMarkdownSafe } from "./slack-markdown-target.js";
import { tableBlock } from "./slack-table.js";
import { scheduleStopBlock } from "./slack-schedule-button.js";

/** Characters of the answer shown when it is too long for one message (the whole is attached). */
const PREVIEW_CHARS = 1500;
/** Code shown in a streamed step's task; longer code is attached as code.py. */
const STREAMED_CODE_CHARS = 1500;
/** One "not sent" entry: a clipped file name and the reason. */
const NOTE_ENTRY_LIMIT = 120;
/** A context block's text element. */
const CONTEXT_CHARS = 2900;

export interface SlackAnswerMessage {
  /**
   * The message's text (mrkdwn, not yet made safe): what notifications, search and clients
   * without blocks show. The blocks are what people see.
   */
  text: string;
  blocks: KnownBlock[];
  /** The table block, where Slack takes it: in the message's attachments (one table per message). */
  attachments: MessageAttachment[];
  /** Files uploaded to the thread after the message: charts, files, CSVs, code.py, answer.md. */
  uploads: OutgoingFile[];
}

function context(mrkdwn: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: mrkdwn.slice(0, CONTEXT_CHARS) }] };
}

/** "Not sent: a.csv (too large); … and 1,990 more", bounded whatever the list. */
function notSent(entries: string[]): string {
  return `_Not sent: ${summarizeList(entries.map((entry) => escapeMrkdwn(neutralizeMassMentions(displayNote(entry, NOTE_ENTRY_LIMIT))))).join("; ")}_`;
}

/**
 * The table block (Slack shows one per message: the last table) with its note, as the message's
 * attachment (where Slack takes table blocks), and every table's CSV.
 */
function tables(answer: Answer): { attachments: MessageAttachment[]; note: string; uploads: OutgoingFile[] } {
  const last = answer.tables.at(-1);
  const blocks: KnownBlock[] = [];
  let note = "";
  if (last) {
    const table = tableBlock(last.table, last.csv ? { csvName: displayName(last.csv.name) } : {});
    blocks.push(table.block);
    note = escapeMrkdwn(neutralizeMassMentions(table.note ?? `A table of ${last.table.totalRows} rows.`));
    if (table.note) blocks.push(context(note));
  }
  return { attachments: blocks.length ? [{ blocks, fallback: note }] : [], note, uploads: answer.tables.flatMap((table) => (table.csv ? [table.csv] : [])) };
}

function codeFile(answer: Answer): OutgoingFile {
  return { name: "code.py", mime: "text/x-python", data: Buffer.from(answer.code.join("\n\n# ---\n\n")) };
}

/**
 * The answer as one Slack message, when it was not streamed: the model's markdown in Slack's own
 * markdown blocks (a long answer as a preview, the whole in answer.md), one line per code step,
 * the last table as a table block, notes, feedback buttons on the model's answers, and "Stop this
 * schedule" under a scheduled run's answer. The code
 * that ran is one tap away as code.py (code people ran themselves is not echoed back).
 */
export function slackAnswerMessage(answer: Answer, eventId: string, scheduleId?: string): SlackAnswerMessage {
  const uploads: OutgoingFile[] = [...answer.images, ...answer.files].map((file) => ({ ...file, name: displayName(file.name) }));
  let body = markdownBlocks(answer.markdown);
  const long = body.overflow;
  if (long) {
    uploads.unshift({ name: "answer.md", mime: "text/markdown", data: Buffer.from(answer.markdown) });
    body = markdownBlocks(`${answer.markdown.slice(0, PREVIEW_CHARS).trimEnd()}…\n\n_(The full answer is in answer.md below.)_`);
  }
  const blocks: KnownBlock[] = [...body.blocks];
  const text = markdownToMrkdwn(neutralizeMassMentions(long ? `${answer.markdown.slice(0, PREVIEW_CHARS)}…\n\n_(The full answer is in answer.md below.)_` : answer.markdown));
  if (answer.facts && answer.steps.length) blocks.push(context(answer.steps.map(stepLine).join("\n")));
  const table = tables(answer);
  uploads.push(...table.uploads);
  if (answer.skippedFiles.length) blocks.push(context(notSent(answer.skippedFiles)));
  if (answer.facts) {
    if (answer.code.length) uploads.push(codeFile(answer));
    blocks.push(feedbackBlock(eventId, answer.facts));
  }
  if (scheduleId) blocks.push(scheduleStopBlock(scheduleId));
  const notes = answer.skippedFiles.length ? `\n${notSent(answer.skippedFiles)}` : "";
  return { text: `${text}${notes}`, blocks, attachments: table.attachments, uploads };
}

/**
 * What ends a streamed answer: notes as markdown and the feedback block (for chat.stopStream), the
 * table as a message of its own (a stream takes no attachments), the uploads.
 */
export function slackStreamEnd(
  answer: Answer,
  eventId: string,
  overflowed: boolean,
  scheduleId?: string,
): { markdown: string; blocks: KnownBlock[]; table?: { text: string; attachments: MessageAttachment[] }; uploads: OutgoingFile[] } {
  const uploads: OutgoingFile[] = [...answer.images, ...answer.files].map((file) => ({ ...file, name: displayName(file.name) }));
  const notes: string[] = [];
  // The text past what a message streams, and any note the answer adds after the model's words.
  if (overflowed) {
    uploads.unshift({ name: "answer.md", mime: "text/markdown", data: Buffer.from(answer.markdown) });
    notes.push("_(The answer goes on: the whole of it is in answer.md below.)_");
  }
  if (answer.skippedFiles.length) notes.push(`_Not sent: ${summarizeList(answer.skippedFiles.map((entry) => slackMarkdownSafe(displayNote(entry, NOTE_ENTRY_LIMIT)).replace(/[*_~`]/g, ""))).join("; ")}_`);
  const table = tables(answer);
  uploads.push(...table.uploads);
  if (answer.code.some((code) => code.length > STREAMED_CODE_CHARS)) uploads.push(codeFile(answer));
  const blocks = [...(answer.facts ? [feedbackBlock(eventId, answer.facts)] : []), ...(scheduleId ? [scheduleStopBlock(scheduleId)] : [])];
  return { markdown: notes.join("\n\n"), blocks, ...(table.attachments.length ? { table: { text: table.note, attachments: table.attachments } } : {}), uploads };
}
