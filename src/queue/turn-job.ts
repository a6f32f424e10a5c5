import { z } from "zod";
import { chatRequestSchema } from "../core/chat-request.js";

/** What a queued turn holds: the request (text and references, never bytes or secrets) and its place in the thread. */
export const turnJobSchema = z.object({
  request: chatRequestSchema,
  threadKey: z.string(),
  seq: z.number().int().positive(),
});
export type TurnJob = z.infer<typeof turnJobSchema>;
