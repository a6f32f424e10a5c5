import { formatCount } from "../core/display-text.js";
import { durationText, resetTimeText, type BudgetPeriod } from "../core/calendar-periods.js";
import type { Metric, SubjectKind } from "./budget-policy.js";

/** A budget's amount as people read it: `200,000 model tokens`, `600 seconds of code execution`. */
export function amountText(metric: Metric, amount: number): string {
  const count = Math.round(amount);
  return metric === "tokens" ? `${formatCount(count)} model token${count === 1 ? "" : "s"}` : `${formatCount(count)} second${count === 1 ? "" : "s"} of code execution`;
}

export interface ExhaustedBudget {
  subject: SubjectKind;
  metric: Metric;
  period: BudgetPeriod;
  limit: number;
}

/**
 * The refusal people read: whose budget, which one, and when it resets (the time and how long
 * from now), so they know when to come back; and that nothing ran, so they need not check.
 */
export function refusalText(budget: ExhaustedBudget, now: number, timeZone: string): string {
  const who = budget.subject === "user" ? "You've" : "This channel has";
  const which = budget.period.kind === "day" ? "today's" : "this month's";
  return (
    `${who} used ${which} budget of ${amountText(budget.metric, budget.limit)}; ` +
    `it resets at ${resetTimeText(budget.period, timeZone)} (in ${durationText(budget.period.endsAt - now)}). Nothing was run.`
  );
}

/**
 * The refusal while the subject's other running turns hold the rest of a budget: nothing is used up
 * yet, but those turns may use it; once they are done, what they didn't spend is free again.
 */
export function heldText(budget: ExhaustedBudget): string {
  const amount = amountText(budget.metric, budget.limit);
  const period = budget.period.kind === "day" ? "today" : "this month";
  const whose =
    budget.subject === "user"
      ? `Your requests still running may use the rest of ${period === "today" ? "today's" : "this month's"} budget of ${amount}`
      : `Requests still running in this channel may use the rest of the channel's budget of ${amount} for ${period}`;
  return `${whose}, so this one was not started: ask again once they are done. Nothing was run.`;
}
