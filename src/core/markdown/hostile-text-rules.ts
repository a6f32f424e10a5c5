import type { Definition, Link, Nodes, Parents, PhrasingContent, Root, Text } from "mdast";
import { toString } from "mdast-util-to-string";
import { CONTINUE, SKIP, visitParents } from "unist-util-visit-parents";
import { labelMisleads, safeHttpUrl } from "./link-rules.js";

/**
 * The rules every target applies to markdown the model wrote (or quoted from the sandbox), as
 * visitors over its syntax tree (markdown-tree.ts), so that showing it fetches nothing and links
 * go where they say:
 * - raw HTML is text (shown as written, never rendered: no <img src>, <iframe>, <style>);
 * - images are links (nothing is loaded when the text is shown; the alt text is the label);
 * - reference links and images are resolved, so the same rules see their destinations;
 * - links only to plain http(s) addresses (other schemes keep just their label), and a label that
 *   names another address than the destination is shown as text, with the real address beside it.
 * Each visitor changes the tree in place; applyHostileTextRules runs them all, in order.
 */

/** Parents whose children are blocks (flow content): a text can't stand there alone. */
const FLOW_PARENTS = new Set<string>(["root", "blockquote", "listItem", "footnoteDefinition"]);

const text = (value: string): Text => ({ type: "text", value });

/** Replaces the node at index of parent by nodes; the visit goes on after them. */
function replace(parent: Parents, index: number, nodes: Nodes[]): [typeof SKIP, number] {
  (parent.children as Nodes[]).splice(index, 1, ...nodes);
  return [SKIP, index + nodes.length];
}

/** Where a visitor is: the node's parent and its index there. */
function place(ancestors: Parents[], node: Nodes): { parent: Parents; index: number } | undefined {
  const parent = ancestors.at(-1);
  if (!parent) return undefined;
  return { parent, index: (parent.children as Nodes[]).indexOf(node) };
}

/** Raw HTML, inline or a block, becomes the text it is (a block: a paragraph of it), in the same place of the source. */
export function rawHtmlAsText(tree: Root): void {
  visitParents(tree, "html", (node, ancestors) => {
    const at = place(ancestors, node);
    if (!at) return CONTINUE;
    const shown: Text = { ...text(node.value), position: node.position };
    return replace(at.parent, at.index, [FLOW_PARENTS.has(at.parent.type) ? { type: "paragraph", children: [shown], position: node.position } : shown]);
  });
}

/**
 * Reference links and images ([label][ref], ![alt][ref]) become inline ones with their
 * definition's destination; definitions go (they show nothing themselves).
 */
export function resolveReferences(tree: Root): void {
  const definitions = new Map<string, Definition>();
  visitParents(tree, "definition", (node) => {
    if (!definitions.has(node.identifier)) definitions.set(node.identifier, node);
  });
  visitParents(tree, (node, ancestors) => {
    if (node.type !== "definition" && node.type !== "linkReference" && node.type !== "imageReference") return CONTINUE;
    const at = place(ancestors, node);
    if (!at) return CONTINUE;
    if (node.type === "definition") return replace(at.parent, at.index, []);
    const definition = definitions.get(node.identifier);
    const where = { url: definition?.url ?? "", title: definition?.title ?? null };
    if (node.type === "imageReference") return replace(at.parent, at.index, [{ type: "image", ...where, alt: node.alt ?? "" }]);
    return replace(at.parent, at.index, definition ? [{ type: "link", ...where, children: node.children }] : node.children);
  });
}

/**
 * Images become links to where they are (labelled with their alt text, else their address), so
 * nothing is loaded when the text is shown; inside a link an image is just its alt text.
 */
export function imagesAsLinks(tree: Root): void {
  visitParents(tree, "image", (node, ancestors) => {
    const at = place(ancestors, node);
    if (!at) return CONTINUE;
    const label = text(node.alt || node.url);
    const inLink = ancestors.some((ancestor) => ancestor.type === "link");
    return replace(at.parent, at.index, [inLink ? label : { type: "link", url: node.url, title: node.title ?? null, children: [label] }]);
  });
}

/** What a link may be: where it goes, and whether its label names another address (then the real one is shown beside it). */
export interface LinkVerdict {
  url: string;
  misleads: boolean;
}

/**
 * The link policy for one link: undefined when it may not be a link at all (then only its label
 * is shown), else the address it may go to and whether its label misleads. Every target decides
 * its links here: the tree visitor below, and the renderers that write the source back.
 */
export function linkVerdict(url: string, label: string, allowed: (url: string) => string | undefined = safeHttpUrl): LinkVerdict | undefined {
  const safe = allowed(url);
  return safe === undefined ? undefined : { url: safe, misleads: labelMisleads(label, safe) };
}

/**
 * Links only to plain http(s) addresses: any other keeps just its label. A label naming another
 * address than the destination ([https://bank.example](https://evil.example)) stays as text, the
 * real address shown beside it as a link of its own.
 */
export function linkPolicy(tree: Root, allowed: (url: string) => string | undefined = safeHttpUrl): void {
  visitParents(tree, "link", (node, ancestors) => {
    const at = place(ancestors, node);
    if (!at) return CONTINUE;
    const verdict = linkVerdict(node.url, toString(node), allowed);
    if (!verdict) return replace(at.parent, at.index, node.children);
    node.url = verdict.url;
    if (!verdict.misleads) return SKIP;
    const real: Link = { type: "link", url: verdict.url, title: null, children: [text(verdict.url)] };
    return replace(at.parent, at.index, [...node.children, text(" ("), real, text(")")] as PhrasingContent[]);
  });
}

/** Every rule, in order: references first (so their targets are seen), images before links. */
export function applyHostileTextRules(tree: Root): Root {
  resolveReferences(tree);
  return applyChatRules(tree);
}

/**
 * The rules for chat (whose text is shown as it streams): raw HTML as text, images as links, the
 * link policy. References stay as written: a streamed message can't take back text that a later
 * definition would make a link, so chat renderers keep definitions from being read as such instead.
 */
export function applyChatRules(tree: Root): Root {
  rawHtmlAsText(tree);
  imagesAsLinks(tree);
  linkPolicy(tree);
  return tree;
}
