import type { KnownBlock } from "@slack/web-api";

/** The action_id of "Stop this schedule" under a scheduled run's answer; its value is the schedule's id. */
export const SCHEDULE_STOP_ACTION_ID = "codebot_schedule_stop";

/** "Stop this schedule", with Slack's own confirmation dialog before anything happens. */
export function scheduleStopBlock(scheduleId: string): KnownBlock {
  return {
    type: "actions",
    elements: [
      {
        type: "button",
        action_id: SCHEDULE_STOP_ACTION_ID,
        value: scheduleId,
        text: { type: "plain_text", text: "Stop this schedule" },
        confirm: {
          title: { type: "plain_text", text: "Stop this schedule?" },
          text: { type: "plain_text", text: `Schedule ${scheduleId} will run no more. The thread's files and session stay as they are.` },
          confirm: { type: "plain_text", text: "Stop it" },
          deny: { type: "plain_text", text: "Keep it" },
          style: "danger",
        },
      },
    ],
  };
}
