import { z } from "zod";
import { integer } from "./config-fields.js";

/** The queue and its workers (src/queue/): `[queue]` in .env.example. */
export const queueSchema = z.object({
  QUEUE_ATTEMPTS: integer(3, 1, 20),
  QUEUE_LOCK_SECONDS: integer(30, 2, 3600),
  WORKER_CONCURRENCY: integer(4, 1, 256),
  WORKER_SHUTDOWN_SECONDS: integer(60, 1, 3600),
});

export type QueueConfig = Readonly<z.infer<typeof queueSchema>>;
