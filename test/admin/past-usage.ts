import { createBudgetGate } from "../../src/budget/budget-gate.js";
import { loadConfig } from "../../src/config.js";
import { chatRequestSchema } from "../../src/core/chat-request.js";
import type { Pipeline } from "../support/pipeline-fixture.js";

/** Earlier days' usage, charged as the workers would have on those days (a clock set back), for the history's other rows. */
export async function chargePastDays(pipeline: Pick<Pipeline, "env" | "redis" | "keys">): Promise<void> {
  const config = loadConfig(pipeline.env);
  const people = [
    { user: "ops-lead", channel: "C-data", tokens: 42_000, exec: 31 },
    { user: "analyst", channel: "C-data", tokens: 18_500, exec: 12.5 },
    { user: "U<img src=x onerror=window.pwned=4>", channel: "C<b>x</b>", tokens: 2_400, exec: 0.8 },
  ];
  for (let daysAgo = 1; daysAgo <= 9; daysAgo++) {
    const gate = createBudgetGate(pipeline.redis, pipeline.keys, config, undefined, () => Date.now() - daysAgo * 24 * 3600 * 1000);
    for (const [i, person] of people.entries()) {
      if ((daysAgo + i) % 4 === 0) continue; // not everyone every day
      const request = chatRequestSchema.parse({ eventId: `past-${daysAgo}-${i}`, user: { id: person.user, name: "x" }, conversation: { platform: "slack", workspaceId: "T1", channelId: person.channel, threadId: "1.1" }, text: "x", receivedAt: 0 });
      const scale = 1 + ((daysAgo * 7 + i * 3) % 5) / 2;
      await gate.charge(request, { tokens: Math.round(person.tokens * scale), execSeconds: person.exec * scale });
    }
  }
}
