import type { PeriodKind } from "../core/calendar-periods.js";

/** What a turn spent, or a subject has used in a period. */
export interface BudgetUse {
  tokens: number;
  execSeconds: number;
}

export type PeriodUse = Record<PeriodKind, BudgetUse>;
