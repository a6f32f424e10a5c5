import { z } from "zod";
import { isTimeZone } from "./core/calendar-periods.js";
import { HostSpecError, parseHosts } from "./core/host-spec.js";
import { isPlatformUser } from "./core/platform-names.js";

export { SECRET_VARIABLES } from "./core/secret-variables.js";

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const boolean = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .transform((value) => ["true", "1", "yes"].includes(value))
    .default(fallback ? "true" : "false");

/** A comma-separated list; empty means "no restriction". */
const list = () =>
  z
    .string()
    .default("")
    .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean));

/**
 * S3 bucket naming rules: 3 to 63 lowercase letters, digits, dots and dashes, a letter or digit at
 * each end, no "..", not an IP address, none of S3's reserved prefixes and suffixes.
 */
function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)
  );
}

/** A key prefix: segments that are neither empty nor `.` / `..`, printable, at most 512 bytes. */
function isKeyPrefix(prefix: string): boolean {
  const trimmed = prefix.replace(/\/+$/, "");
  if (trimmed === "") return true;
  return (
    Buffer.byteLength(trimmed) <= 512 &&
    !/[\p{Cc}\\]/u.test(trimmed) &&
    trimmed.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")
  );
}

/** `none`, `s3://bucket[/prefix]`, or a directory (absolute, relative, `~` or `~/…`); no other URL scheme. */
function isWorkspaceStore(value: string): boolean {
  if (value === "none") return true;
  if (value.startsWith("s3://")) {
    const location = value.slice("s3://".length);
    const slash = location.indexOf("/");
    return isBucketName(slash === -1 ? location : location.slice(0, slash)) && (slash === -1 || isKeyPrefix(location.slice(slash + 1)));
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return false; // s3:/x, S3://x, gs://x: a typo, not a folder
  if (/^~[^/]/.test(value)) return false; // ~user/… isn't expanded
  return !value.includes("\0");
}

/** An http(s) URL without a user or password in it (credentials come from the AWS SDK's own chain). */
function isEndpoint(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
  } catch {
    return false;
  }
}

const configSchema = z.object({
  /** Unset: "info" for long-running services, "warn" for one-shot commands. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  /** Each turn's audit line carries the message's text and the user's display name (never file contents). */
  LOG_CONTENT: boolean(false),
  DOCKER_HOST: z.string().optional(),
  /** A fleet of engines (see src/core/host-spec.ts); unset: the one engine of DOCKER_HOST. tcp:// needs TLS (or insecure=true). */
  SANDBOX_HOSTS: z.string().superRefine(checkHosts).optional(),
  /** Seconds between health checks of each fleet host. */
  SANDBOX_HOST_CHECK_SECONDS: integer(2, 1, 600),
  /** Failed checks in a row after which a host is down and its threads move. */
  SANDBOX_HOST_DOWN_AFTER: integer(3, 1, 100),
  SANDBOX_IMAGE: z.string().min(1).default("codebot-sandbox:latest"),
  /** "auto": gVisor (runsc) when the engine lists it, else the engine's default; or a runtime's name. */
  SANDBOX_RUNTIME: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "auto, runc, runsc or another runtime the engine lists").default("auto"),
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
  SANDBOX_MAX_SESSIONS_PER_USER: integer(3, 1, 10000),
  SANDBOX_EVICT_IDLE_SECONDS: integer(120, 0, 7 * 24 * 3600),
  SANDBOX_MAX_FILE_MB: integer(100, 1, 4096),
  SANDBOX_MAX_TURN_FILES_MB: integer(50, 1, 4096),
  SANDBOX_MAX_RESULT_BYTES: integer(65536, 256, 16 << 20),
  SANDBOX_MAX_IMAGES: integer(10, 0, 100),
  SANDBOX_MAX_IMAGE_MB: integer(4, 1, 64),
  SANDBOX_MAX_FILES_LISTED: integer(100, 1, 5000),
  SANDBOX_SHM_MB: integer(16, 1, 4096),
  SANDBOX_CPU_BUDGET_SECONDS: integer(3600, 0, 365 * 24 * 3600),
  SANDBOX_MAX_LIFETIME_SECONDS: integer(7 * 24 * 3600, 0, 365 * 24 * 3600),

  /** `none`, a directory (`~/…` is under the home directory), or `s3://bucket/prefix`. */
  WORKSPACE_STORE: z
    .string()
    .refine(isWorkspaceStore, "none, a directory, or s3://bucket/prefix with a valid bucket name (3-63 of a-z 0-9 . -)")
    .default("~/.local/share/codebot/workspaces"),
  WORKSPACE_S3_ENDPOINT: z.string().refine(isEndpoint, "an http(s) URL without credentials in it").optional(),
  WORKSPACE_S3_REGION: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a region name such as us-east-1").default("us-east-1"),
  WORKSPACE_S3_FORCE_PATH_STYLE: boolean(false),
  WORKSPACE_MAX_MB: integer(1024, 1, 1048576),
  WORKSPACE_MAX_STATE_MB: integer(256, 1, 65536),
  WORKSPACE_MAX_FILES: integer(10_000, 1, 1_000_000),
  WORKSPACE_RETENTION_DAYS: integer(30, 1, 3650),
  /** Longest one session's going to sleep may take before a sweep (or a new session it makes room for) goes on without it. */
  WORKSPACE_SLEEP_TIMEOUT_SECONDS: integer(180, 1, 3600),

  /** Data sources (src/datasources/, #19): a YAML file of SQL databases and HTTP APIs, read and checked at the worker's start; unset: none. */
  DATA_SOURCES_FILE: z.string().min(1).max(4096).optional(),

  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, "letters, digits, _ and -")
    .default("codebot"),
  QUEUE_ATTEMPTS: integer(3, 1, 20),
  QUEUE_LOCK_SECONDS: integer(30, 2, 3600),
  WORKER_CONCURRENCY: integer(4, 1, 256),
  WORKER_SHUTDOWN_SECONDS: integer(60, 1, 3600),
  /** The worker's /metrics, /healthz and /readyz (src/ops/); 0: not served. */
  METRICS_PORT: integer(9464, 0, 65535),
  /** The bot's /metrics, /healthz and /readyz, on a port of their own (never PORT, Slack's public one); 0: not served. */
  BOT_METRICS_PORT: integer(9465, 0, 65535),
  METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  /** When set, the worker's and the bot's ops endpoints answer only `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, "at least 16 characters (e.g. `openssl rand -hex 24`)").regex(/^[\x21-\x7e]+$/, "printable characters without spaces").optional(),

  /**
   * The admin page (src/admin/), served by the bot on a port of its own: 0 is off. It needs
   * ADMIN_TOKEN (`Authorization: Bearer`, for scripts) and/or ADMIN_PASSWORD (basic auth, for browsers).
   */
  ADMIN_PORT: integer(0, 0, 65535),
  /** 127.0.0.1 keeps it on this machine; in a container 0.0.0.0, with the port published to the host's 127.0.0.1. */
  ADMIN_HOST: z.string().min(1).default("127.0.0.1"),
  ADMIN_TOKEN: z.string().min(16, "at least 16 characters (e.g. `openssl rand -hex 24`)").optional(),
  ADMIN_USER: z.string().min(1).max(100).regex(/^[^:]+$/, "a user name without ':'").default("admin"),
  ADMIN_PASSWORD: z.string().min(12, "at least 12 characters").optional(),
  /**
   * People who may stop anyone's request in chat (everyone else only their own): comma-separated
   * `platform:userId`, e.g. `slack:U0123ABCD,discord:123456789012345678`.
   */
  ADMIN_USERS: list().refine((ids) => ids.every(isPlatformUser), "comma-separated platform:userId entries, e.g. slack:U0123ABCD,discord:123456789012345678"),

  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  OPENAI_STREAM: boolean(true),
  OPENAI_VISION: boolean(false),
  OPENAI_MAX_RETRIES: integer(3, 0, 10),
  OPENAI_TIMEOUT_SECONDS: integer(120, 1, 3600),
  OUTAGE_WAIT_SECONDS: integer(120, 0, 3600),
  MODEL_CONTEXT_TOKENS: integer(32000, 2000, 2_000_000),

  TURN_MAX_STEPS: integer(10, 1, 100),
  TURN_TIMEOUT_SECONDS: integer(600, 5, 24 * 3600),
  TURN_MAX_TOKENS: integer(200_000, 1000, 100_000_000),
  TOOL_OUTPUT_MAX_CHARS: integer(8000, 500, 1_000_000),

  USER_RATE_LIMIT_PER_MINUTE: integer(10, 1, 10_000),

  /** Budgets (src/budget/): 0 is no limit. Per user (`platform:userId`) and per channel, per calendar day and month. */
  BUDGET_USER_TOKENS_PER_DAY: integer(0, 0, 1e12),
  BUDGET_USER_TOKENS_PER_MONTH: integer(0, 0, 1e12),
  BUDGET_USER_EXEC_SECONDS_PER_DAY: integer(0, 0, 1e9),
  BUDGET_USER_EXEC_SECONDS_PER_MONTH: integer(0, 0, 1e9),
  BUDGET_CHANNEL_TOKENS_PER_DAY: integer(0, 0, 1e12),
  BUDGET_CHANNEL_TOKENS_PER_MONTH: integer(0, 0, 1e12),
  BUDGET_CHANNEL_EXEC_SECONDS_PER_DAY: integer(0, 0, 1e9),
  BUDGET_CHANNEL_EXEC_SECONDS_PER_MONTH: integer(0, 0, 1e9),
  /** What one person may add to the export log (/export's record of turns, images included) per day in BUDGET_TIMEZONE, in MB; 0: no limit. */
  EXPORT_LOG_MAX_MB_PER_USER_DAY: integer(64, 0, 1_048_576),
  /** Users never refused by a budget (still counted): `platform:userId`, comma-separated. */
  BUDGET_EXEMPT_USERS: list().refine((users) => users.every(isPlatformUser), "comma-separated platform:userId, e.g. slack:U123,discord:4000123"),
  /** The zone whose calendar days and months the budgets count in (an IANA name). */
  BUDGET_TIMEZONE: z.string().refine(isTimeZone, "a time zone name such as UTC or Europe/Paris").default("UTC"),
  /** Days each day's usage counters (per user and channel, kept whether or not a limit is set) outlive their day. */
  USAGE_HISTORY_DAYS: integer(90, 1, 3650),

  SLACK_BOT_TOKEN: z.string().startsWith("xoxb-", "a bot token starts with xoxb-").optional(),
  SLACK_APP_TOKEN: z.string().startsWith("xapp-", "an app-level token starts with xapp-").optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z.string().url().optional(),
  /**
   * How many times a Slack Web API call that can't reach Slack (or is rate-limited) is tried again,
   * waiting about twice as long each time from a second: 10 (the SDK's default) is about 30 minutes.
   */
  SLACK_API_RETRIES: integer(10, 0, 10),
  SLACK_ALLOWED_CHANNELS: list(),
  SLACK_ALLOWED_USERS: list(),
  SLACK_ALLOW_DMS: boolean(true),
  PORT: integer(3000, 1, 65535),

  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_API_URL: z.string().url().optional(),
  DISCORD_ALLOWED_GUILDS: list(),
  DISCORD_ALLOWED_CHANNELS: list(),
  DISCORD_ALLOWED_USERS: list(),
  DISCORD_ALLOW_DMS: boolean(true),
  DISCORD_MESSAGE_CONTENT: boolean(false),
  DISCORD_MAX_UPLOAD_MB: integer(10, 1, 500),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Every variable the config reads (docker-compose.yml and .env.example list each: test/compose/). */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as ReadonlyArray<keyof Config>;

/** SANDBOX_HOSTS as src/core/host-spec.ts reads it: a bad entry (tcp:// without TLS among them) is refused at once. */
function checkHosts(value: string, context: z.RefinementCtx): void {
  try {
    parseHosts(value);
  } catch (error) {
    if (!(error instanceof HostSpecError)) throw error;
    context.addIssue({ code: z.ZodIssueCode.custom, message: error.message });
  }
}

/** Cross-field rules: what a platform needs once one of its variables is set; ports that must differ. */
function checkPlatforms(config: z.infer<typeof configSchema>): string[] {
  const problems: string[] = [];
  if (config.BOT_METRICS_PORT !== 0 && config.BOT_METRICS_PORT === config.PORT) {
    problems.push("  BOT_METRICS_PORT: must differ from PORT (Slack's public port never serves /metrics, /healthz or /readyz)");
  }
  if (config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
    problems.push("  SLACK_SIGNING_SECRET: required for Slack's HTTP events (or set SLACK_APP_TOKEN for Socket Mode)");
  }
  if ((config.SLACK_APP_TOKEN || config.SLACK_SIGNING_SECRET) && !config.SLACK_BOT_TOKEN) {
    problems.push("  SLACK_BOT_TOKEN: required once Slack is configured");
  }
  return problems;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

/** Reads and validates the environment once; every module gets what it needs from the result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`KEY=` in an .env file) means "use the default", as if it were unset.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = configSchema.safeParse(given);
  const problems = parsed.success ? checkPlatforms(parsed.data) : parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  if (!parsed.success || problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  return Object.freeze(parsed.data);
}
