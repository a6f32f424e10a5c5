import { z } from "zod";

/** Environment variables that hold secrets: never logged, never passed into a sandbox or a job. */
export const SECRET_VARIABLES = ["OPENAI_API_KEY", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"] as const;

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const configSchema = z.object({
  /** Unset: "info" for long-running services, "warn" for one-shot commands. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  DOCKER_HOST: z.string().optional(),
  SANDBOX_IMAGE: z.string().min(1).default("codebot-sandbox:latest"),
  SANDBOX_RUNTIME: z.string().min(1).optional(),
  SANDBOX_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "lowercase letters, digits and dashes")
    .default("codebot"),
  SANDBOX_MEMORY_MB: integer(1024, 128, 65536),
  SANDBOX_CPUS: z.coerce.number().min(0.1).max(64).default(1),
  SANDBOX_PIDS_LIMIT: integer(128, 16, 4096),
  SANDBOX_DISK_MB: integer(512, 16, 65536),
  SANDBOX_TMP_MB: integer(64, 8, 4096),
  SANDBOX_NOFILE: integer(1024, 64, 65536),
  SANDBOX_TIMEOUT_SECONDS: integer(60, 1, 3600),
  SANDBOX_MAX_OUTPUT_BYTES: integer(1 << 20, 1024, 64 << 20),
  SANDBOX_IDLE_TIMEOUT_SECONDS: integer(1800, 10, 7 * 24 * 3600),
  SANDBOX_POOL_SIZE: integer(2, 0, 64),
  SANDBOX_MAX_SESSIONS: integer(50, 1, 10000),
  SANDBOX_MAX_FILE_MB: integer(100, 1, 4096),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

/** Reads and validates the environment once; every module gets what it needs from the result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  }
  return Object.freeze(parsed.data);
}
