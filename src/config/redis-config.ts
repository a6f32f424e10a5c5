import { z } from "zod";

/** Redis and the prefix of every key (src/redis/): `[redis]` in .env.example. */
export const redisSchema = z.object({
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, "letters, digits, _ and -")
    .default("codebot"),
});

export type RedisConfig = Readonly<z.infer<typeof redisSchema>>;
