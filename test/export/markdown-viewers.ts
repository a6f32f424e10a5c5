import MarkdownIt from "markdown-it";
import { marked } from "marked";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import type { Browser } from "puppeteer-core";

/**
 * Markdown rendered the way the places people open a notebook render it, with raw HTML allowed and
 * no sanitizer after (so a test sees what the markdown itself does, not what a sanitizer saves):
 * JupyterLab (marked), VS Code (markdown-it), GitHub (cmark-gfm: micromark is its CommonMark + GFM
 * twin).
 */
export const VIEWERS: Record<string, (markdown: string) => string> = {
  "JupyterLab (marked)": (markdown) => marked.parse(markdown, { async: false, gfm: true }),
  "VS Code (markdown-it)": (markdown) => new MarkdownIt({ html: true, linkify: true }).render(markdown),
  "GitHub (micromark, GFM)": (markdown) => micromark(markdown, { allowDangerousHtml: true, allowDangerousProtocol: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] }),
};

/** Elements that load something (or run script) when shown, as they'd appear in rendered HTML. */
export const LOADING_TAG = /<(img|image|script|iframe|frame|style|link|object|embed|video|audio|source|track|svg|picture|input|meta|base|body|table[^>]*background|form)\b/i;

export interface PageVisit {
  /** Every request the page made once its content was set (nothing, for an inert page). */
  requests: string[];
  /** What a person reads on the page. */
  text: string;
}

/**
 * Opens the HTML as a page of a real headless Chromium and records every request it makes (images,
 * frames, styles, scripts, prefetches) for a moment after it loaded. Requests are let through, so
 * a recorder behind the URLs sees them too.
 */
export async function visit(browser: Browser, html: string): Promise<PageVisit> {
  const page = await browser.newPage();
  const requests: string[] = [];
  try {
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      requests.push(request.url());
      void request.continue().catch(() => undefined);
    });
    await page.setContent(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${html}</body></html>`, { waitUntil: "load" });
    await new Promise((resolve) => setTimeout(resolve, 750));
    // A page that navigated away (a meta refresh) may have no body any more.
    const text = await page.evaluate(() => document.body?.innerText ?? "").catch(() => "");
    return { requests, text };
  } finally {
    await page.close();
  }
}
