import { describe, expect, test } from "vitest";
import { chatRequestSchema } from "../../src/core/chat-request.js";
import { commandReply, type Delivery } from "../../src/core/reply.js";
import { createLogger } from "../../src/log.js";
import { StatusRelay } from "../../src/queue/status-relay.js";

const request = chatRequestSchema.parse({ eventId: "ev-1", user: { id: "u", name: "U" }, conversation: { platform: "local", channelId: "c", threadId: "t" }, text: "go", receivedAt: 0 });

/** A platform whose every call takes `ms` and is recorded in the order it ends; a status reading "broken" fails. */
function slowPlatform(ms: number): { delivery: Delivery; shown: string[] } {
  const shown: string[] = [];
  const call = (what: string) => new Promise<void>((resolve, reject) => setTimeout(() => (what === "status broken" ? reject(new Error("platform refused")) : (shown.push(what), resolve())), ms));
  return {
    shown,
    delivery: {
      status: (_request, update) => call(`status ${update.text}`),
      event: (_request, event) => call(`event ${event.type}`),
      answer: (_request, answer) => call(`answer ${answer.markdown}`),
      fail: (_request, failure) => call(`fail ${failure.message}`),
    },
  };
}

describe("StatusRelay", () => {
  test("a status line doesn't hold the turn up, and the answer comes after every status line before it", async () => {
    const { delivery, shown } = slowPlatform(30);
    const relay = new StatusRelay(delivery, createLogger("silent"));
    await relay.status(request, { phase: "thinking", text: "Thinking…" });
    await relay.status(request, { phase: "running", step: 1, text: "Running code (step 1)…" });
    expect(shown).toEqual([]); // handed over, not shown yet: the turn went on
    await relay.answer(request, commandReply("done"));
    expect(shown).toEqual(["status Thinking…", "status Running code (step 1)…", "answer done"]);
  });

  test("a failure and answer events keep their place behind status lines; a status the platform refuses doesn't fail the turn", async () => {
    const { delivery, shown } = slowPlatform(5);
    const relay = new StatusRelay(delivery, createLogger("silent"));
    await relay.status(request, { phase: "thinking", text: "broken" });
    await relay.status(request, { phase: "thinking", text: "Thinking…" });
    const event = relay.event(request, { type: "step-started", step: 1, code: "x = 1" });
    await relay.status(request, { phase: "uploading", text: "Uploading results…" });
    await relay.fail(request, { code: "INTERNAL", message: "stopped" });
    await event;
    await relay.settled();
    expect(shown).toEqual(["status Thinking…", "event step-started", "status Uploading results…", "fail stopped"]);
  });

  test("settled waits for the last status line", async () => {
    const { delivery, shown } = slowPlatform(10);
    const relay = new StatusRelay(delivery, createLogger("silent"));
    await relay.status(request, { phase: "thinking", text: "Thinking…" });
    await relay.settled();
    expect(shown).toEqual(["status Thinking…"]);
  });
});
