import type { Code, Nodes, Root } from "mdast";
import { fromMarkdown, type CompileContext, type Extension as TreeExtension, type Token } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm, type Extension as SyntaxExtension } from "micromark-extension-gfm";
import { MAX_MARKDOWN_DEPTH, nestsTooDeep } from "./nesting-bound.js";

export { MAX_MARKDOWN_DEPTH };

/**
 * The first step of the markdown pipeline: text as a CommonMark (+ GFM) syntax tree (mdast),
 * parsed by micromark, a maintained CommonMark parser, so code spans, fences, HTML and links are
 * read exactly as renderers read them. The hostile-text rules (hostile-text-rules.ts) then work on
 * the tree, and each target renders it.
 *
 * Two flavours:
 * - "notebook": all of GFM (tables, strikethrough, task lists, footnotes, autolink literals), as
 *   JupyterLab, VS Code and GitHub read a notebook's cells;
 * - "chat": the same without autolink literals (bare URLs stay text: chat apps link them
 *   themselves), whose detection micromark does in time quadratic in the length of some hostile
 *   text ("[" then many words), and every node keeps its place in the source, which the chat
 *   renderers write back edited (markdown-rewrite.ts).
 * Each fenced code block records where its fences are (data.fences), so renderers know whether it
 * was closed and where its fence lines start.
 */

export type MarkdownFlavour = "notebook" | "chat";

/** Where a fence's run of backticks or tildes is: [start, end) offsets in the source. */
export type FenceRun = [number, number];

declare module "mdast" {
  interface CodeData {
    /** The opening fence's run, and the closing one's when the block was closed. */
    fences?: FenceRun[];
  }
}

/** Records each fence run on its code block (the closing one is met while the code's text is buffered above it). */
function onFenceRun(this: CompileContext, token: Token): void {
  const code = [...this.stack].reverse().find((node): node is Code => node.type === "code");
  if (!code) return;
  const data = (code.data ??= {});
  (data.fences ??= []).push([token.start.offset, token.end.offset]);
}

const FENCES: TreeExtension = { exit: { codeFencedFenceSequence: onFenceRun } };
/** GFM's autolink literals, switched off for chat (see the module comment). */
const NO_LITERAL_LINKS: SyntaxExtension = { disable: { null: ["wwwAutolink", "protocolAutolink", "emailAutolink"] } };

const OPTIONS = {
  notebook: { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown(), FENCES] },
  // The mdast side of autolink literals also finds them in text afterwards (its transform): dropped with the syntax.
  chat: { extensions: [gfm(), NO_LITERAL_LINKS], mdastExtensions: [gfmFromMarkdown().map(({ transforms: _finds, ...handlers }) => handlers), FENCES] },
};

/** The tree's nesting depth, counted without recursion (root: 1). */
export function treeDepth(tree: Nodes): number {
  let deepest = 0;
  const stack: Array<[Nodes, number]> = [[tree, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop() as [Nodes, number];
    deepest = Math.max(deepest, depth);
    if ("children" in node) for (const child of node.children) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The text's syntax tree, or undefined when the text nests too deeply to be handled as markdown
 * (past MAX_MARKDOWN_DEPTH, or so deep that the parser itself ran out of stack): callers then show
 * the text as plain text.
 */
export function parseMarkdown(markdown: string, flavour: MarkdownFlavour = "notebook"): Root | undefined {
  if (nestsTooDeep(markdown)) return undefined;
  let tree: Root;
  try {
    tree = fromMarkdown(markdown, OPTIONS[flavour]);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return treeDepth(tree) <= MAX_MARKDOWN_DEPTH ? tree : undefined;
}
