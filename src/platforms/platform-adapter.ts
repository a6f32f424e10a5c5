import type { Redis } from "ioredis";
import type { BotDeps } from "../bot/bot-deps.js";
import type { PlatformsConfig } from "../config.js";
import type { AccessRules } from "../core/access-policy.js";
import type { AttachmentSource } from "../core/attachment-source.js";
import type { Platform } from "../core/platform-names.js";
import type { Delivery } from "../core/reply.js";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";

/** A platform the bot connected: stopped at shutdown, asked by /readyz whether it still is connected. */
export interface PlatformListener {
  stop(): Promise<void>;
  connected(): boolean;
}

/** What a worker gives a platform to make its ports: Redis (the local chat's answers and files go through it) and the log. */
export interface PlatformPortDeps {
  redis: Redis;
  keys: Keys;
  log: Logger;
}

/**
 * One chat platform, everything the rest of codebot needs of it. Its code lives in its own folder
 * (src/platforms/<name>/); src/platforms/registry.ts lists every adapter. The bot listens to the
 * configured ones, a worker delivers to them and fetches their attachments, and the model is told
 * where it works.
 */
export interface PlatformAdapter<Name extends Platform = Platform> {
  /** The name requests carry (`conversation.platform`), as in logs, /readyz and ADMIN_USERS. */
  readonly name: Name;
  /** Whether the configuration sets the platform up: only then is it listened to and delivered to. */
  configured(config: PlatformsConfig): boolean;
  /**
   * The bot's side: connects, and hands what people say to the intake (and rating clicks to the
   * feedback store). None for a platform whose requests are enqueued directly (the local chat).
   */
  listen?(config: PlatformsConfig, deps: BotDeps, log: Logger): Promise<PlatformListener>;
  /**
   * Who may use the bot there (its ALLOWED_* and ALLOW_DMS variables), as its listener applies them
   * to each message, and as a schedule's runs are judged again each time. None: everyone may (the
   * local chat: whoever can run the CLI).
   */
  accessRules?(config: PlatformsConfig): AccessRules;
  /** What to set for the bot to listen to it, as the bot's "nothing is configured" warning says it. */
  readonly setup?: string;
  /** The worker's side: where a turn's status, answer events, answer and failure go. */
  delivery(config: PlatformsConfig, deps: PlatformPortDeps): Delivery;
  /** The worker's side: where a request's attached files are fetched from. */
  attachments(config: PlatformsConfig, deps: PlatformPortDeps): AttachmentSource;
  /** Facts for the model's prompt: where it is working ("a Slack thread"). */
  readonly promptFacts: { place: string };
  /**
   * The last pass over text bound for the platform, so that nothing in it pings anyone (mass
   * mentions, user and group mentions in the platform's syntax). Its delivery applies it to every
   * message; text a terminal prints can't ping, so the local chat's is the identity.
   */
  mentions(text: string): string;
}
