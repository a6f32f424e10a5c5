/**
 * Fenced code blocks, line by line, as CommonMark defines them (spec §4.5): where a line must be
 * judged before the lines after it exist (a terminal's input, a message that is only a block of
 * code) and no tree is needed. In a parsed tree, code blocks are `code` nodes (markdown-tree.ts).
 * Also how codebot writes a code block of its own around text that may hold fences.
 */

/** An opening fence: its indentation (spaces), its run (``` or ~~~, three or more) and its info string. */
export interface FenceOpening {
  indent: number;
  run: string;
  info: string;
}

const OPENING = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const CLOSING = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
/** The labels of a block that is Python (or not labelled at all). */
const PYTHON_INFO = new Set(["", "python", "py", "python3"]);

/** The line as an opening fence, or undefined (a backtick fence's info string may hold no backtick). */
export function fenceOpening(line: string): FenceOpening | undefined {
  const match = OPENING.exec(line);
  if (!match) return undefined;
  const [, indent = "", run = "", info = ""] = match;
  if (run.startsWith("`") && info.includes("`")) return undefined;
  return { indent: indent.length, run, info: info.trim() };
}

/** True when the line closes a block opened by `opening`: the same character, at least as many, nothing after. */
export function closesFence(line: string, opening: FenceOpening): boolean {
  const run = CLOSING.exec(line)?.[1];
  return run !== undefined && run[0] === opening.run[0] && run.length >= opening.run.length;
}

/**
 * The code before a closing fence at the end of the last line ("print(1)```"): chat apps close a
 * block there (Slack's and Discord's composers write it so), where CommonMark would not. Undefined
 * when the line doesn't end in such a fence.
 */
function codeBeforeClosing(line: string, opening: FenceOpening): string | undefined {
  if (closesFence(line, opening)) return "";
  const code = line.trimEnd();
  let start = code.length;
  while (start > 0 && code[start - 1] === opening.run[0]) start--;
  return code.length - start >= opening.run.length ? code.slice(0, start) : undefined;
}

/**
 * The code of a message that is only a fenced Python block (run as written, no model): the block
 * opens on its first line, closes at the end of its last (on a line of its own, or right after the
 * code, as chat apps write it) and nowhere before, its info string is python, py, python3 or
 * nothing. Else undefined. Linear in the message, whatever it holds.
 */
export function fencedPython(text: string): string | undefined {
  const lines = text.replace(/\r\n?/g, "\n").replace(/^\s*\n|\n\s*$/g, "").split("\n");
  const open = fenceOpening(lines[0] ?? "");
  const last = lines.length < 2 || !open ? undefined : codeBeforeClosing(lines.at(-1) ?? "", open);
  if (!open || !PYTHON_INFO.has(open.info.toLowerCase()) || last === undefined) return undefined;
  const body = [...lines.slice(1, -1), ...(last.trim() ? [last] : [])];
  if (body.some((line) => closesFence(line, open))) return undefined;
  // Content lines lose as much indentation as the opening fence had (CommonMark).
  const code = body.map((line) => line.replace(new RegExp(`^ {0,${open.indent}}`), "")).join("\n");
  return code.trim() ? code : undefined;
}

/** A fenced block in a chat app's dialect: ``` and a label anywhere, the code up to the next ``` (Discord's reading). */
const CHAT_FENCE = /```([\w+-]*)[ \t]*\r?\n([\s\S]*?)\r?\n?```/g;

/**
 * The code to run from someone's message (Discord's "Run code" on a message): its first fenced
 * block labelled python (or not labelled), read as the chat app reads it, else the whole text, as written.
 */
export function messageCode(text: string): string {
  for (const match of text.matchAll(CHAT_FENCE)) {
    if (PYTHON_INFO.has((match[1] ?? "").toLowerCase()) && match[2]?.trim()) return match[2];
  }
  return text.trim();
}

/** Runs of three or more backticks with zero-width spaces between them: nothing left that can open or close a fence. */
export function breakFences(text: string): string {
  return text.replace(/`{3,}/g, (run) => run.split("").join("\u200b"));
}

/** Text as a fenced code block of codebot's own ("```lang" … "```"), its backtick runs broken so nothing in it ends the block. */
export function codeBlock(text: string, lang = ""): string {
  return `\`\`\`${lang}\n${breakFences(text)}\n\`\`\``;
}

/**
 * Sandbox text (output, a query's SQL) as a code block codebot adds to an answer, clipped by `clip`:
 * each "```" broken after its second backtick, so nothing in it ends the block.
 */
export function outputBlock(text: string, lang: string, clip: (text: string) => string): string {
  return `\`\`\`${lang}\n${clip(text.replace(/```/g, "``\u200b`")).trimEnd()}\n\`\`\``;
}
