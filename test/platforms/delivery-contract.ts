import { describe, expect, test } from "vitest";
import type { ChatRequest } from "../../src/core/chat-request.js";
import type { Answer, Delivery, OutgoingFile } from "../../src/core/reply.js";

/**
 * The `Delivery` port's contract (src/core/reply.ts), run against every platform's delivery through
 * its real client: Slack's WebClient on the Slack stand-in, discord.js REST on the Discord stand-in,
 * the local chat's Redis stream read as the CLI reads it. Each platform gives a harness: the
 * delivery, fresh conversations, and what its platform recorded, read back in the platform's terms
 * (messages as they stand, every text ever sent, files with their bytes).
 */
export interface DeliveryHarness {
  delivery: Delivery;
  /** A request in a conversation of its own. */
  request(): ChatRequest;
  /** Every text the platform was sent for the conversation, in order (each post, edit, streamed chunk, block): whatever anyone may have seen. */
  sent(request: ChatRequest): Promise<string[]>;
  /** The conversation as it stands: each message's latest text as people read it, in order; deleted ones gone. */
  shown(request: ChatRequest): Promise<string[]>;
  /** The files the conversation got, with their bytes. */
  files(request: ChatRequest): Promise<Array<{ name: string; bytes: Buffer }>>;
  /** Messages or edits that would let the platform preview a link (none where nothing previews). */
  previewProblems(request: ChatRequest): Promise<string[]>;
  /** Messages over the platform's size limits. */
  limitProblems(request: ChatRequest): Promise<string[]>;
  /** Whether this text, as the platform received it, would notify someone who wasn't addressed. */
  pings(text: string): boolean;
  /** Mentions in the platform's own syntax that must reach nobody (besides @everyone and @here). */
  platformMentions: string;
  /** What shows while the answer is written: its words (chat platforms), or its steps' code (the terminal, whose words come whole). */
  progress: "text" | "steps";
  /** Makes the platform refuse every message (true) or take them again (false). */
  refuse(on: boolean): Promise<void>;
}

export const emptyAnswer = (extra: Partial<Answer> = {}): Answer => ({ markdown: "", code: [], steps: [], tables: [], images: [], files: [], skippedFiles: [], ...extra });

/** Polls until the check passes (paced platforms show changes a second or so later). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() - started > timeoutMs) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A small PNG (its signature and an IHDR chunk are enough for every platform's upload). */
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const CSV = Buffer.from("region,units\nnorth,12\nsouth,30\n");

/** The answer's words in one text; a marker of each line found in the shown text or in an attached file. */
const everyMarkerIn = (markers: string[], texts: string[], files: Array<{ bytes: Buffer }>): string[] => {
  const all = [...texts, ...files.map((file) => file.bytes.toString("utf8"))].join("\n");
  return markers.filter((marker) => !all.includes(marker));
};

export function deliveryContract(name: string, harness: () => DeliveryHarness): void {
  describe(`Delivery contract: ${name}`, () => {
    test("a status, then the answer in its place: the status is gone, the answer's words are shown", async () => {
      const h = harness();
      const req = h.request();
      await h.delivery.status(req, { phase: "thinking", text: "Thinking about the sales figures" });
      expect((await h.sent(req)).join("\n")).toContain("Thinking about the sales figures");
      await h.delivery.answer(req, emptyAnswer({ markdown: "The total is **42** units.", facts: { model: "m", steps: 0 } }));
      const shown = await eventually(() => h.shown(req), (texts) => texts.join("\n").includes("42"));
      expect(shown.join("\n")).toMatch(/The total is \W*42\W* units\./);
      expect(shown.join("\n")).not.toContain("Thinking about the sales figures");
    });

    test("an answer being written shows as it goes, then ends whole, its words once", async () => {
      const h = harness();
      const req = h.request();
      await h.delivery.status(req, { phase: "thinking", text: "Thinking" });
      await h.delivery.event(req, { type: "text", delta: "Revenue grew " });
      await h.delivery.event(req, { type: "text", delta: "by 12% in Q3. " });
      const code = "# Summing the sales\nprint(sum([1, 2, 3]))";
      await h.delivery.event(req, { type: "step-started", step: 1, code });
      const progress = h.progress === "text" ? "Revenue grew by 12% in Q3." : "Summing the sales";
      const during = await eventually(() => h.sent(req), (texts) => texts.join("\n").includes(progress));
      expect(during.join("\n"), "shown before the answer ends").toContain(progress);
      await h.delivery.event(req, { type: "step-finished", step: 1, status: "ok", outcome: "6", durationMs: 5 });
      await h.delivery.event(req, { type: "text", delta: "Most of it came from the north." });
      const markdown = "Revenue grew by 12% in Q3. Most of it came from the north.";
      await h.delivery.answer(req, emptyAnswer({ markdown, code: [code], steps: [{ step: 1, code, status: "ok", outcome: "6", durationMs: 5 }], facts: { model: "m", steps: 1 } }));
      const shown = (await eventually(() => h.shown(req), (texts) => texts.join("\n").includes("from the north"))).join("\n");
      expect(shown).toContain("Most of it came from the north.");
      expect(shown.split("Revenue grew by 12% in Q3.").length - 1, "the streamed words aren't repeated by the answer").toBe(1);
    });

    test("images and files reach the conversation with their bytes", async () => {
      const h = harness();
      const req = h.request();
      const images: OutgoingFile[] = [{ name: "chart-1.png", mime: "image/png", data: PNG }];
      const files: OutgoingFile[] = [{ name: "units.csv", mime: "text/csv", data: CSV }];
      await h.delivery.answer(req, emptyAnswer({ markdown: "Here is the chart.", images, files }));
      const got = await eventually(() => h.files(req), (list) => list.length >= 2);
      for (const file of [...images, ...files]) {
        const match = got.find((candidate) => candidate.name === file.name);
        expect(match, file.name).toBeDefined();
        expect(match!.bytes.equals(file.data), file.name).toBe(true);
      }
    });

    test("mass mentions and the platform's own mentions ping nobody, in statuses, answers and failures, and still read as words", async () => {
      const h = harness();
      const pings = `@everyone @here @channel ${h.platformMentions}`;
      const answered = h.request();
      await h.delivery.status(answered, { phase: "running", step: 1, text: `Running for ${pings}` });
      await h.delivery.event(answered, { type: "text", delta: `Hello ${pings} ` });
      await h.delivery.answer(answered, emptyAnswer({ markdown: `Hello ${pings} and good day.`, skippedFiles: [`${pings}.bin (too large)`], facts: { model: "m", steps: 0 } }));
      const failed = h.request();
      await h.delivery.status(failed, { phase: "thinking", text: "Thinking" });
      await h.delivery.fail(failed, { code: "INTERNAL", message: `It broke for ${pings}` });
      for (const req of [answered, failed]) {
        const sent = await h.sent(req);
        expect(sent.length).toBeGreaterThan(0);
        expect(sent.filter((text) => h.pings(text))).toEqual([]);
      }
      expect((await eventually(() => h.shown(answered), (texts) => texts.join("\n").includes("good day"))).join("\n")).toMatch(/everyone/);
      expect((await h.shown(failed)).join("\n")).toMatch(/It broke for .*everyone/);
    });

    test("no link of the model or the sandbox gets a preview", async () => {
      const h = harness();
      const req = h.request();
      await h.delivery.status(req, { phase: "running", step: 1, text: "Fetching https://attacker.example/status" });
      await h.delivery.event(req, { type: "text", delta: "See https://attacker.example/?d=secret " });
      await h.delivery.answer(req, emptyAnswer({ markdown: "See https://attacker.example/?d=secret and [the docs](https://docs.example/x).", facts: { model: "m", steps: 0 } }));
      await eventually(() => h.shown(req), (texts) => texts.join("\n").includes("docs"));
      expect((await h.sent(req)).length).toBeGreaterThan(0);
      expect(await h.previewProblems(req)).toEqual([]);
    });

    test("a long answer stays within the platform's limits and loses nothing: split into messages, or attached whole", async () => {
      const h = harness();
      for (const lines of [60, 600]) {
        const req = h.request();
        const markers = Array.from({ length: lines }, (_, i) => `marker-${String(i).padStart(4, "0")}`);
        const markdown = markers.map((marker, i) => `${marker}: the orders of region ${i} rose by ${i % 17}% over the quarter.`).join("\n\n");
        await h.delivery.status(req, { phase: "thinking", text: "Thinking" });
        await h.delivery.answer(req, emptyAnswer({ markdown, facts: { model: "m", steps: 0 } }));
        const missing = async () => everyMarkerIn(markers, await h.shown(req), await h.files(req));
        expect(await eventually(missing, (left) => left.length === 0), `${markdown.length} characters`).toEqual([]);
        expect(await h.limitProblems(req)).toEqual([]);
      }
    });

    test("a failure is told in plain words in place of the status, a link in it previewed nowhere", async () => {
      const h = harness();
      const req = h.request();
      await h.delivery.status(req, { phase: "running", step: 2, text: "Running the code" });
      await h.delivery.fail(req, { code: "SANDBOX_UNAVAILABLE", message: "The sandbox is unavailable: see [the status page](http://evil.example/login)" });
      const shown = (await eventually(() => h.shown(req), (texts) => texts.join("\n").includes("unavailable"))).join("\n");
      expect(shown).toContain("The sandbox is unavailable");
      expect(shown).not.toContain("Running the code");
      expect(await h.previewProblems(req)).toEqual([]);
    });

    test("a platform that refuses the message: the delivery rejects (the worker retries the job), nothing is reported as delivered", async () => {
      const h = harness();
      const req = h.request();
      await h.refuse(true);
      try {
        await expect(h.delivery.answer(req, emptyAnswer({ markdown: "This answer can't be delivered." }))).rejects.toThrow();
      } finally {
        await h.refuse(false);
      }
      expect((await h.shown(req)).join("\n")).not.toContain("can't be delivered");
      // Once the platform takes messages again, the same delivery delivers.
      await h.delivery.answer(req, emptyAnswer({ markdown: "Delivered after all." }));
      expect((await eventually(() => h.shown(req), (texts) => texts.join("\n").includes("after all"))).join("\n")).toContain("Delivered after all.");
    });
  });
}
