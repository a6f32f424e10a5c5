import { z } from "zod";

/** What a worker sends back to the local chat, one entry per reply on a Redis stream per request. */
const fileSchema = z.object({ name: z.string(), mime: z.string(), base64: z.string() });

export const localReplySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), text: z.string() }),
  /** A code step: its code when it starts, its one-line outcome when it ends. */
  z.object({ type: z.literal("step"), step: z.number().int(), code: z.string().optional(), outcome: z.string().optional() }),
  z.object({
    type: z.literal("answer"),
    markdown: z.string(),
    code: z.array(z.string()),
    images: z.array(fileSchema),
    files: z.array(fileSchema),
    tables: z.array(fileSchema).default([]),
    skippedFiles: z.array(z.string()),
  }),
  z.object({ type: z.literal("fail"), code: z.string(), message: z.string() }),
]);
export type LocalReply = z.infer<typeof localReplySchema>;
export type LocalFile = z.infer<typeof fileSchema>;

/** How long a request's replies stay in Redis for the chat to read. */
export const LOCAL_REPLY_TTL_SECONDS = 3600;
