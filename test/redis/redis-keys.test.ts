import { describe, expect, test } from "vitest";
import { jobIdForEvent, keys, SCHEDULE_QUEUE, TURN_QUEUE } from "../../src/redis/redis-keys.js";

/**
 * The key strings are data: a deployment that upgrades keeps reading what it stored. Each one is
 * pinned here as it was spelled before the registry gathered them (some were written inline).
 */
describe("the Redis key registry", () => {
  const k = keys("p");

  test("every key keeps its string", () => {
    expect({
      event: k.event("ev-1"),
      threadSeq: k.thread("slack:T1:C1:1.2", "seq"),
      threadGap: k.thread("slack:T1:C1:1.2", "gap:7"),
      threadTurns: k.thread("slack:T1:C1:1.2", "turns"),
      threadExport: k.thread("slack:T1:C1:1.2", "export-bytes"),
      cancelChannel: k.cancelChannel,
      cancelFlag: k.cancelFlag("E1"),
      stalledReported: k.stalledReported("ev-1"),
      rate: k.rate("slack:U1", 29_000_000),
      usage: k.usage("user", "slack:U1"),
      blob: k.blob("b1"),
      localReplies: k.localReplies("E1"),
      assistantThread: k.assistantThread("T1:D1:1.2"),
      latestDmThread: k.latestDmThread("T1:D1"),
      feedback: k.feedback("slack:T1:C1:1.2", "ratings"),
      feedbackRecent: k.feedbackRecent,
      feedbackModels: k.feedbackModels,
      budget: k.budget("user:slack:U1", "day:2025-01-31"),
      budgetHolds: k.budgetHolds("user:slack:U1"),
      budgetCharged: k.budgetCharged("user:slack:U1", "E1"),
      usageSubjects: k.usageSubjects("day:2025-01-31"),
      exportQuota: k.exportQuota("slack:U1", "day:2025-01-31"),
      sourceCalls: k.sourceCalls("day:2025-01-31"),
      sourceFailures: k.sourceFailures,
      recentFailures: k.recentFailures,
      sessionSnapshot: k.sessionSnapshot("w1"),
      sessionReporters: k.sessionReporters,
      sessionKillChannel: k.sessionKillChannel,
      sandboxSlots: k.sandboxSlots("ns"),
      hostSandboxSlots: k.sandboxSlots("ns", "gpu"),
      fleetFailures: k.fleetFailures("ns"),
      fleetDrained: k.fleetDrained("ns"),
      fleetPlacement: k.fleetPlacement("ns"),
      fleetGeneration: k.fleetGeneration("ns"),
      schedule: k.schedule("k7m2qz"),
      threadSchedules: k.threadSchedules("slack:T1:C1:1.2"),
      ownerSchedules: k.ownerSchedules("slack:U1"),
      allSchedules: k.allSchedules,
    }).toEqual({
      event: "p:event:ev-1",
      threadSeq: "p:thread:{slack:T1:C1:1.2}:seq",
      threadGap: "p:thread:{slack:T1:C1:1.2}:gap:7",
      threadTurns: "p:thread:{slack:T1:C1:1.2}:turns",
      threadExport: "p:thread:{slack:T1:C1:1.2}:export-bytes",
      cancelChannel: "p:cancel",
      cancelFlag: "p:cancel:E1",
      stalledReported: "p:reported:ev-1",
      rate: "p:rate:slack:U1:29000000",
      usage: "p:usage:user:slack:U1",
      blob: "p:blob:b1",
      localReplies: "p:local:replies:E1",
      assistantThread: "p:slack:assistant:T1:D1:1.2",
      latestDmThread: "p:slack:latest-dm:T1:D1",
      feedback: "p:feedback:{slack:T1:C1:1.2}:ratings",
      feedbackRecent: "p:feedback:recent",
      feedbackModels: "p:feedback:models",
      budget: "p:budget:{user:slack:U1}:day:2025-01-31",
      budgetHolds: "p:budget:{user:slack:U1}:holds",
      budgetCharged: "p:budget:{user:slack:U1}:charged:E1",
      usageSubjects: "p:usage:subjects:day:2025-01-31",
      exportQuota: "p:export-quota:{slack:U1}:day:2025-01-31",
      sourceCalls: "p:sources:calls:day:2025-01-31",
      sourceFailures: "p:sources:failures",
      recentFailures: "p:ops:failures",
      sessionSnapshot: "p:ops:sessions:w1",
      sessionReporters: "p:ops:session-reporters",
      sessionKillChannel: "p:ops:session-kill",
      sandboxSlots: "p:sandbox-slots:ns",
      hostSandboxSlots: "p:sandbox-slots:ns:gpu",
      fleetFailures: "p:fleet:ns:failures",
      fleetDrained: "p:fleet:ns:drained",
      fleetPlacement: "p:fleet:ns:placement",
      fleetGeneration: "p:fleet:ns:generation",
      schedule: "p:{schedules}:schedule:k7m2qz",
      threadSchedules: "p:{schedules}:thread:slack:T1:C1:1.2",
      ownerSchedules: "p:{schedules}:owner:slack:U1",
      allSchedules: "p:{schedules}:all",
    });
  });

  test("the turn queue's name and job ids stay what BullMQ stored them under", () => {
    expect(TURN_QUEUE).toBe("turns");
    expect(jobIdForEvent("slack:T1:1.2")).toMatch(/^ev-[0-9a-f]{40}$/);
    expect(jobIdForEvent("slack:T1:1.2")).toBe(jobIdForEvent("slack:T1:1.2"));
    expect(jobIdForEvent("slack:T1:1.2")).not.toBe(jobIdForEvent("slack:T1:1.3"));
  });

  test("the schedules' queue keeps its name, and every schedule key shares one cluster slot", () => {
    expect(SCHEDULE_QUEUE).toBe("schedules");
    const scheduleKeys = [k.schedule("k7m2qz"), k.threadSchedules("slack:T1:C1:1.2"), k.ownerSchedules("slack:U1"), k.allSchedules];
    expect(new Set(scheduleKeys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]))).toEqual(new Set(["schedules"]));
  });
});
