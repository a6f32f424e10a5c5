/**
 * How the bot's intake treated a request: queued, a duplicate delivery of an event, refused by the
 * access rules or the rate limit, or an error (Redis didn't answer).
 */
export type IntakeOutcomeLabel = "queued" | "duplicate" | "refused_access" | "refused_rate" | "error";

/** What the intake reports; the platform is the only other label (never a user, channel or thread). */
export interface IntakeMetrics {
  request(platform: string, outcome: IntakeOutcomeLabel): void;
}
