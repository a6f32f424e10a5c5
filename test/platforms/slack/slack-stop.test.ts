import { describe, expect, test } from "vitest";
import { answerIn, previewProblems } from "../../support/slack-answers.js";
import { useSlackBot } from "../../support/slack-bot-fixture.js";
import { appMention, blockActions } from "../../support/stand-ins/slack-events.js";

/**
 * A request's Stop button acts only for the person who asked, or for one of ADMIN_USERS: anyone
 * else pressing it is told so, in a message only they see, and the request goes on.
 */
const CHANNEL = "C0STOPPING";
const ALICE = "U0ALICE001";
const MALLORY = "U0MALLORY1";
const ADMIN = "U0THEBOSS1";
let clock = 1_730_000_000;
const fixture = useSlackBot({ ADMIN_USERS: `discord:123456789012345678,slack:${ADMIN}` });

function mention(text: string): string {
  const ts = `${++clock}.000400`;
  void fixture.send(appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${text}`, channel: CHANNEL, ts }, fixture.slack.teamId));
  return ts;
}

/** Presses the Stop button of the thread's status message as `user`; returns the status message's ts. */
async function pressStop(threadTs: string, user: string): Promise<string> {
  const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === threadTs && JSON.stringify(call.args.blocks).includes("codebot_stop"));
  const button = (status.args.blocks as Array<{ type: string; elements?: Array<{ value: string }> }>).find((block) => block.type === "actions")?.elements?.[0];
  const response = await fixture.interact(blockActions({ user, channel: CHANNEL, messageTs: String(status.response?.ts), actionId: "codebot_stop", value: button!.value, teamId: fixture.slack.teamId, threadTs }));
  expect(response.status).toBe(200);
  return String(status.response?.ts);
}


describe("Slack: Stop acts only for the person who asked, or an admin", () => {
  test("someone else's press is refused in a message only they see, naming the asker; the request goes on", async () => {
    const ts = mention("```python\nimport time\nfor i in range(8):\n    time.sleep(0.5)\nprint('finished anyway')\n```");
    const status = await pressStop(ts, MALLORY);
    const told = await fixture.slack.waitFor("chat.postEphemeral", (call) => call.args.user === MALLORY);
    expect(String(told.args.text)).toMatch(new RegExp(`^Only \\S*${ALICE}\\S* \\(who asked\\) or an admin can stop this\\.$`));
    expect(told.args).toMatchObject({ channel: CHANNEL, thread_ts: ts });
    expect(previewProblems([told])).toEqual([]);
    await answerIn(fixture.slack, ts, /finished anyway/, 60_000);
    const updates = fixture.slack.callsTo("chat.update").filter((call) => call.args.ts === status).map((call) => String(call.args.text));
    expect(updates.some((text) => /Stopping|cancelled/.test(text))).toBe(false);
  });

  test("the asker's own press stops it; so does an admin's (ADMIN_USERS)", async () => {
    for (const who of [ALICE, ADMIN]) {
      const ts = mention("```python\nimport time\ntime.sleep(120)\n```");
      await pressStop(ts, who);
      await answerIn(fixture.slack, ts, /Stopped: the request was cancelled\./, 60_000);
      expect(fixture.slack.callsTo("chat.postEphemeral").filter((call) => call.args.user === who)).toEqual([]);
    }
  });
});
