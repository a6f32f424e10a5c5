import { LogLevel, type Logger as SlackLogger, type WebClientOptions } from "@slack/web-api";
import type { SlackConfig } from "../../config.js";
import type { Logger } from "../../log.js";

const LEVELS: Record<LogLevel, number> = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 };

/**
 * The Slack SDKs' own log lines (WebClient, Bolt, Socket Mode) through codebot's logger, so they are
 * JSON like every other line and pass its redaction (log-redaction.ts): an SDK error logged whole
 * never prints a token. Strings make the message; errors and objects go in fields.
 */
export function slackLogger(log: Logger, level: LogLevel = LogLevel.WARN): SlackLogger {
  let current = level;
  let name = "slack";
  const emit = (at: LogLevel, parts: unknown[]) => {
    if (LEVELS[at] < LEVELS[current]) return;
    const error = parts.find((part): part is Error => part instanceof Error);
    const details = parts.filter((part) => part !== error && typeof part !== "string");
    const message = parts.filter((part): part is string => typeof part === "string").join(" ") || error?.message || "";
    log[at === LogLevel.DEBUG ? "debug" : at === LogLevel.INFO ? "info" : at === LogLevel.WARN ? "warn" : "error"]({ sdk: name, ...(error ? { err: error } : {}), ...(details.length ? { details } : {}) }, message);
  };
  return {
    debug: (...parts: unknown[]) => emit(LogLevel.DEBUG, parts),
    info: (...parts: unknown[]) => emit(LogLevel.INFO, parts),
    warn: (...parts: unknown[]) => emit(LogLevel.WARN, parts),
    error: (...parts: unknown[]) => emit(LogLevel.ERROR, parts),
    setLevel: (next: LogLevel) => void (current = next),
    getLevel: () => current,
    setName: (next: string) => void (name = next),
  };
}

/**
 * What every Slack WebClient of codebot is made with (the bot's Bolt app and Socket Mode client,
 * the worker's delivery): SLACK_API_URL, SLACK_API_RETRIES, the SDK's lines through codebot's
 * logger, and no copy of the HTTP request on errors (by default the SDK attaches the original
 * axios error, whose config carries the Authorization header: any log of it would print the token).
 */
export function slackClientOptions(config: SlackConfig, log: Logger): WebClientOptions {
  return {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    attachOriginalToWebAPIRequestError: false,
    // The SDK's own policy (about 30 minutes for 10 retries), with as many retries as configured.
    retryConfig: { retries: config.SLACK_API_RETRIES, factor: 1.96821, randomize: true },
    logger: slackLogger(log.child({ component: "slack-sdk" })),
    logLevel: LogLevel.WARN,
  };
}
