import type { Nodes, Root } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

/**
 * The first step of the markdown pipeline: text as a CommonMark (+ GFM: tables, strikethrough,
 * task lists, autolink literals, footnotes) syntax tree (mdast), parsed by micromark, a maintained
 * CommonMark parser, so code spans, fences, HTML and links are read exactly as renderers read them.
 * The hostile-text rules (hostile-text-rules.ts) then work on the tree, and each target renders it.
 */

/**
 * How deep a tree may nest (quotes in lists in quotes…). Deeper text ("> > > …" thousands of
 * times) is refused as markdown, so that no visitor or renderer recursing over the tree can run
 * out of stack, whatever the caller's own depth: it is shown as plain text instead.
 */
export const MAX_MARKDOWN_DEPTH = 64;

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
export function parseMarkdown(markdown: string): Root | undefined {
  let tree: Root;
  try {
    tree = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return treeDepth(tree) <= MAX_MARKDOWN_DEPTH ? tree : undefined;
}
