import type { PhrasingContent, Root, RootContent } from "mdast";
import { gfmToMarkdown } from "mdast-util-gfm";
import { toMarkdown, type Options } from "mdast-util-to-markdown";
import { applyHostileTextRules } from "../core/markdown/hostile-text-rules.js";
import { parseMarkdown } from "../core/markdown/markdown-tree.js";

/**
 * The notebook target of the markdown pipeline: the text of a notebook's markdown cells, which
 * JupyterLab, VS Code and GitHub render (with marked, markdown-it and cmark-gfm) as soon as the
 * cell is shown. Model and sandbox text is parsed (markdown-tree.ts), made inert by the shared
 * hostile-text rules (raw HTML as text, images as links, only honest http(s) links), and written
 * back as CommonMark by mdast-util-to-markdown, which escapes every character that would start
 * markup out of text: nothing in a cell loads anything remote. Names and titles codebot adds are
 * text nodes, so they are escaped the same way.
 */

const OPTIONS: Options = { extensions: [gfmToMarkdown()], bullet: "-", fences: true, rule: "-", emphasis: "_", strong: "*" };

const text = (value: string) => ({ type: "text", value }) as const;

function write(tree: Root): string {
  return toMarkdown(tree, OPTIONS).trimEnd();
}

/** The text in a code block (fenced past any backtick run in it): how text that can't be read as markdown is shown. */
function asCode(markdown: string, lead: PhrasingContent[]): Root {
  return { type: "root", children: [...(lead.length ? [{ type: "paragraph", children: lead } as RootContent] : []), { type: "code", lang: null, meta: null, value: markdown }] };
}

/** lead (e.g. a person's name) at the start of the tree's first paragraph (a space after it), or as a paragraph of its own. */
function withLead(tree: Root, lead: PhrasingContent[]): Root {
  if (!lead.length) return tree;
  const first = tree.children[0];
  if (first?.type === "paragraph") first.children.unshift(...lead, text(" "));
  else tree.children.unshift({ type: "paragraph", children: lead });
  return tree;
}

/**
 * Markdown the model or the sandbox wrote, as a notebook cell's inert markdown; lead: phrasing
 * codebot puts before it (a person's name). Text too deeply nested to be read as markdown (or not
 * to be read as markdown: asText) is shown as a code block.
 */
export function notebookMarkdown(markdown: string, lead: PhrasingContent[] = [], asText = false): string {
  const tree = asText ? undefined : parseMarkdown(markdown);
  if (!tree) return write(asCode(markdown, lead));
  return write(withLead(applyHostileTextRules(tree), lead));
}

/**
 * Characters of model and sandbox text one notebook reads as markdown at most. Parsing costs a few
 * µs a character for prose and up to ~50 µs for text made of markup ("[*`<" repeated), so this
 * bounds an export's work whatever the thread holds; text past it is shown as plain text.
 */
export const MAX_NOTEBOOK_MARKDOWN_CHARS = 1_000_000;

/** The markdown cells of one notebook, within MAX_NOTEBOOK_MARKDOWN_CHARS; counts the texts shown as plain text. */
export class NotebookMarkdownBudget {
  plainCells = 0;

  constructor(private left = MAX_NOTEBOOK_MARKDOWN_CHARS) {}

  cell(markdown: string, lead: PhrasingContent[] = []): string {
    const fits = markdown.length <= this.left;
    if (fits) this.left -= markdown.length;
    else this.plainCells++;
    return notebookMarkdown(markdown, lead, !fits);
  }
}

/** "**name**:" as phrasing: a person's name in bold, every character of it shown as written. */
export function speaker(name: string, after = ":"): PhrasingContent[] {
  return [{ type: "strong", children: [text(name)] }, text(after)];
}

/** A heading and a paragraph of plain text (the notebook's title cell), every character shown as written. */
export function titleMarkdown(title: string, paragraph: string): string {
  return write({ type: "root", children: [{ type: "heading", depth: 1, children: [text(title)] }, { type: "paragraph", children: [text(paragraph)] }] });
}

/** A line of plain text with a speaker before it ("**Ada** ran:"). */
export function speakerLine(name: string, after: string): string {
  return write({ type: "root", children: [{ type: "paragraph", children: speaker(name, after) }] });
}

/** A heading line and, per item, "**source** detail" then its code (SQL, a path) as a fenced block: all shown as written. */
export function queriesMarkdown(heading: string, items: Array<{ source: string; detail: string; code: string; lang: string | null }>): string {
  const children: RootContent[] = [{ type: "paragraph", children: [text(heading)] }];
  for (const item of items) {
    children.push({ type: "paragraph", children: [{ type: "strong", children: [text(item.source)] }, text(item.detail)] });
    children.push({ type: "code", lang: item.lang, meta: null, value: item.code });
  }
  return write({ type: "root", children });
}
