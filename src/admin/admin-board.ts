import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { Router } from "express";

export const BOARD_PATH = "/admin/queue";

/**
 * BullMQ's own board (@bull-board) for the turn queue, mounted as it comes. Read-only: a turn's
 * place in its thread is codebot's own (sequence numbers beside the job), so retrying, promoting or
 * removing jobs by hand would step around the thread order; the board is for looking. It shows each
 * job's data, the request's text included.
 */
export function queueBoard(queue: Queue): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true, description: "Turns waiting for, running on and done by the workers" })],
    serverAdapter,
    options: { uiConfig: { boardTitle: "codebot queue", miscLinks: [{ text: "Admin page", url: "/admin" }] } },
  });
  return serverAdapter.getRouter() as Router;
}
