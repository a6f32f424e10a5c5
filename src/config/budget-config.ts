import { z } from "zod";
import { isTimeZone } from "../core/calendar-periods.js";
import { isPlatformUser } from "../core/platform-names.js";
import { integer, list } from "./config-fields.js";

/** Budgets (src/budget/): 0 is no limit. Per user (`platform:userId`) and per channel, per calendar day and month. `[budget]` in .env.example. */
export const budgetSchema = z.object({
  BUDGET_USER_TOKENS_PER_DAY: integer(0, 0, 1e12),
  BUDGET_USER_TOKENS_PER_MONTH: integer(0, 0, 1e12),
  BUDGET_USER_EXEC_SECONDS_PER_DAY: integer(0, 0, 1e9),
  BUDGET_USER_EXEC_SECONDS_PER_MONTH: integer(0, 0, 1e9),
  BUDGET_CHANNEL_TOKENS_PER_DAY: integer(0, 0, 1e12),
  BUDGET_CHANNEL_TOKENS_PER_MONTH: integer(0, 0, 1e12),
  BUDGET_CHANNEL_EXEC_SECONDS_PER_DAY: integer(0, 0, 1e9),
  BUDGET_CHANNEL_EXEC_SECONDS_PER_MONTH: integer(0, 0, 1e9),
  /** Users never refused by a budget (still counted): `platform:userId`, comma-separated. */
  BUDGET_EXEMPT_USERS: list().refine((users) => users.every(isPlatformUser), "comma-separated platform:userId, e.g. slack:U123,discord:4000123"),
  /** The zone whose calendar days and months the budgets count in (an IANA name). */
  BUDGET_TIMEZONE: z.string().refine(isTimeZone, "a time zone name such as UTC or Europe/Paris").default("UTC"),
  /** Days each day's usage counters (per user and channel, kept whether or not a limit is set) outlive their day. */
  USAGE_HISTORY_DAYS: integer(90, 1, 3650),
});

export type BudgetConfig = Readonly<z.infer<typeof budgetSchema>>;
