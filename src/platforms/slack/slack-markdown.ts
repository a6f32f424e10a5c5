import type { Emphasis, Link, List, Nodes, Strong } from "mdast";
import { toString } from "mdast-util-to-string";
import { cleanLines, withinBudget } from "../../core/markdown/chat-markdown.js";
import { breakFences } from "../../core/markdown/fenced-code.js";
import { applyChatRules } from "../../core/markdown/hostile-text-rules.js";
import { tableLines, textTable } from "../../core/markdown/markdown-table.js";
import { parseMarkdown } from "../../core/markdown/markdown-tree.js";

/**
 * The model's markdown as Slack's mrkdwn, for the places that still take mrkdwn (a message's text,
 * the drafted status message; answers go in markdown blocks, slack-markdown-blocks.ts): the syntax
 * tree (markdown-tree.ts) after the chat rules (raw HTML as text, images as links, the link
 * policy), written as mrkdwn: *bold*, _italic_ (a pair inside a word stays as written: mrkdwn has
 * no intraword emphasis), ~strike~, <url|label> links, headings as bold lines, bullets as •,
 * > quotes (one level), tables kept aligned between pipes in a code block. Code keeps its text
 * (fences lose their language tag, which Slack would print; runs of backticks are broken). &, < and > are escaped everywhere,
 * code included (Slack shows &lt; in code as <), so only the links made here are links.
 * The same walk, plain, gives a message's fallback text (plainText).
 */

const WORD = /[\p{L}\p{N}]/u;
/** Markdown read for a message's text at most: Slack shows 3,900 characters of it (SLACK_MAX_TEXT), a draft 2,400. */
const MRKDWN_SOURCE_CHARS = 8000;
/** Markdown read for the fallback text at most: it shows 300 characters (FALLBACK_TEXT_CHARS). */
const PLAIN_SOURCE_CHARS = 2000;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

interface Walk {
  source: string;
  /** Plain: no markup at all (the fallback text); code blocks left out, the first one's first line kept. */
  plain: boolean;
  quoted: boolean;
  code?: string;
}

const inline = (walk: Walk, node: Nodes): string => ("children" in node ? node.children.map((child) => write(walk, child)).join("") : "");

/** Emphasis in mrkdwn's marker; inside a word (2*3*4, where Slack can't format) its delimiters as written. */
function emphasis(walk: Walk, node: Emphasis | Strong, marker: string): string {
  const inner = inline(walk, node);
  if (walk.plain) return inner;
  const start = node.position?.start.offset ?? 0;
  const end = node.position?.end.offset ?? 0;
  if (!WORD.test(walk.source[start - 1] ?? "") && !WORD.test(walk.source[end] ?? "")) return `${marker}${inner}${marker}`;
  const first = node.children[0]?.position?.start.offset ?? start;
  const last = node.children.at(-1)?.position?.end.offset ?? end;
  return `${walk.source.slice(start, first)}${inner}${walk.source.slice(last, end)}`;
}

function link(walk: Walk, node: Link): string {
  const label = escapeMrkdwn(toString(node));
  if (walk.plain) return label;
  const url = escapeMrkdwn(node.url);
  return !label || label === url ? `<${url}>` : `<${url}|${label}>`;
}

function list(walk: Walk, node: List): string {
  const items = node.children.map((item, i) => {
    const marker = walk.plain || !node.ordered ? "• " : `${(node.start ?? 1) + i}. `;
    const box = typeof item.checked === "boolean" ? (item.checked ? "☑ " : "☐ ") : "";
    const body = blocks(walk, item, "\n");
    return `${marker}${box}${body.replace(/\n/g, `\n${" ".repeat(walk.plain ? 0 : 2)}`)}`;
  });
  return items.join(node.spread ? "\n\n" : "\n");
}

function blocks(walk: Walk, node: Nodes, separator: string): string {
  return "children" in node ? node.children.map((child) => write(walk, child)).filter((text) => text !== "").join(separator) : "";
}

function write(walk: Walk, node: Nodes): string {
  switch (node.type) {
    case "text":
    case "html":
      return escapeMrkdwn(node.value);
    case "strong":
      return emphasis(walk, node, "*");
    case "emphasis":
      return emphasis(walk, node, "_");
    case "delete":
      return walk.plain ? inline(walk, node) : `~${inline(walk, node)}~`;
    case "inlineCode":
      // A code span's line ends are spaces (CommonMark); mrkdwn's spans hold one line.
      return walk.plain ? escapeMrkdwn(node.value) : `\`${escapeMrkdwn(breakFences(node.value.replace(/\n/g, " ")))}\``;
    case "break":
      return "\n";
    case "link":
      return link(walk, node);
    case "linkReference":
    case "imageReference":
    case "footnoteReference":
    case "definition":
    case "footnoteDefinition":
      // References stay as written (chat resolves none): their source, as text.
      return escapeMrkdwn(walk.source.slice(node.position?.start.offset ?? 0, node.position?.end.offset ?? 0));
    case "heading":
      return walk.plain ? inline(walk, node) : `*${inline(walk, node).replace(/\*/g, "")}*`;
    case "thematicBreak":
      return walk.plain ? "" : "──────────";
    case "code":
      if (!walk.plain) return `\`\`\`\n${escapeMrkdwn(breakFences(node.value))}\n\`\`\``;
      walk.code ??= node.value.split("\n").find((line) => line.trim())?.trim();
      return "";
    case "table": {
      const cells = textTable(node);
      if (walk.plain) return [cells.header, ...cells.rows].map((row) => row.join(" ")).join(" ");
      return `\`\`\`\n${escapeMrkdwn(tableLines(cells, "piped").join("\n"))}\n\`\`\``;
    }
    case "blockquote": {
      const quoted = blocks({ ...walk, quoted: true }, node, "\n");
      return walk.plain || walk.quoted ? quoted : quoted.replace(/^/gm, "> ");
    }
    case "list":
      return list(walk, node);
    case "paragraph":
      return inline(walk, node);
    default:
      return blocks(walk, node, "\n\n");
  }
}

/** The markdown (cleaned, within the chat budget) as a tree under the chat rules, or undefined when it can't be read as markdown. */
function chatTree(markdown: string, budget: number): { source: string; tree: ReturnType<typeof parseMarkdown>; cut: boolean } {
  const { text, cut } = withinBudget(cleanLines(markdown), budget);
  const tree = parseMarkdown(text, "chat");
  return { source: text, tree: tree && applyChatRules(tree), cut };
}

export function markdownToMrkdwn(markdown: string): string {
  const { source, tree, cut } = chatTree(markdown, MRKDWN_SOURCE_CHARS);
  if (!tree) return `\`\`\`\n${escapeMrkdwn(source)}\n\`\`\``;
  const text = write({ source, plain: false, quoted: false }, tree);
  return cut ? `${text}\n\n…` : text;
}

/** The markdown without markup, on one line, escaped for mrkdwn (not yet clipped): code blocks left out, or, when it is only code, its first line. */
export function plainText(markdown: string): string {
  const { source, tree } = chatTree(markdown, PLAIN_SOURCE_CHARS);
  if (!tree) return escapeMrkdwn(source.replace(/\s+/g, " ").trim());
  const walk: Walk = { source, plain: true, quoted: false };
  const text = write(walk, tree).replace(/\s+/g, " ").trim();
  return text || escapeMrkdwn(walk.code ?? "");
}
