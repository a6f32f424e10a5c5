import { describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { freePort } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";
import { eventually, scrape, total } from "./prometheus-text.js";

let metricsPort = 0;
const pipeline = usePipeline({ METRICS_HOST: "127.0.0.1" }, async () => {
  metricsPort = await freePort();
  return { METRICS_PORT: String(metricsPort) };
});

describe("sleeping sessions on the worker's /metrics", () => {
  test("a session put to sleep counts as sleeping, not live; without a workspace store nothing sleeps", async () => {
    const request = localRequest("sleeper", "```python\nkept = 1\nopen('/mnt/data/a.txt', 'w').write('a')\nprint('ok')\n```");
    await pipeline.queue.enqueue(request);
    expect(answerText((await finalReply(pipeline, request.eventId)).replies)).toContain("ok");
    const slept = await runCli(["sessions", "hibernate", threadKey(localRequest("sleeper", "").conversation)], { env: pipeline.env });
    expect(slept.stdout, slept.stderr).toContain("is asleep");
    // The gauge reads the worker's last listing of its sessions (every 10 s, and at once after a change it made).
    const samples = await eventually(async () => {
      const scraped = (await scrape(`http://127.0.0.1:${metricsPort}`)).samples;
      return total(scraped, "codebot_sessions_sleeping") === 1 ? scraped : false;
    }, 20_000);
    expect(total(samples, "codebot_sandbox_sessions", { state: "live" })).toBe(0);

    const port = await freePort();
    await pipeline.startWorker({ WORKSPACE_STORE: "none", METRICS_PORT: String(port), SANDBOX_POOL_SIZE: "0" });
    const without = await scrape(`http://127.0.0.1:${port}`);
    expect(total(without.samples, "codebot_sessions_sleeping")).toBe(0);
  });
});
