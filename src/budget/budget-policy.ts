import type { BudgetConfig, LlmConfig, TurnConfig } from "../config.js";

/** What budgets read: their own section, and what one turn may use (its hold). */
export type BudgetPolicyConfig = BudgetConfig & Pick<TurnConfig, "TURN_MAX_TOKENS" | "TURN_TIMEOUT_SECONDS"> & Pick<LlmConfig, "MODEL_CONTEXT_TOKENS">;
import type { ChatRequest } from "../core/chat-request.js";
import { PERIOD_KINDS, type PeriodKind } from "../core/calendar-periods.js";
import type { BudgetUse } from "./budget-use.js";

export type SubjectKind = "user" | "channel";
export const SUBJECT_KINDS: readonly SubjectKind[] = ["user", "channel"];

export type Metric = keyof BudgetUse;
export const METRICS: readonly Metric[] = ["tokens", "execSeconds"];

/** Limits of one kind of subject, per period and metric; 0: no limit. */
export type BudgetLimits = Record<PeriodKind, BudgetUse>;

/** Who a request is counted against, with the limits that apply to it. */
export interface BudgetSubject {
  kind: SubjectKind;
  /** `platform:userId`; `platform:workspace:channel` (`-` for no workspace, as in thread keys). */
  id: string;
  limits: BudgetLimits;
}

/** The store's name of a subject: its kind and id (`user:slack:U1`). */
export const subjectKey = (subject: Pick<BudgetSubject, "kind" | "id">) => `${subject.kind}:${subject.id}`;

export const userBudgetId = (request: ChatRequest) => `${request.conversation.platform}:${request.user.id}`;

/**
 * The channel's id includes its workspace (Slack team, Discord guild): channel ids are unique per
 * platform anyway, and a report grouped by workspace can read it from the key.
 */
export const channelBudgetId = (request: ChatRequest) => [request.conversation.platform, request.conversation.workspaceId ?? "-", request.conversation.channelId].join(":");

const limitsOf = (config: BudgetConfig, kind: "USER" | "CHANNEL"): BudgetLimits => ({
  day: { tokens: config[`BUDGET_${kind}_TOKENS_PER_DAY`], execSeconds: config[`BUDGET_${kind}_EXEC_SECONDS_PER_DAY`] },
  month: { tokens: config[`BUDGET_${kind}_TOKENS_PER_MONTH`], execSeconds: config[`BUDGET_${kind}_EXEC_SECONDS_PER_MONTH`] },
});

const anyLimit = (limits: BudgetLimits) => PERIOD_KINDS.some((period) => METRICS.some((metric) => limits[period][metric] > 0));

/** How long past its time limit a turn's hold outlives the turn (its end releases it sooner). */
export const HOLD_MARGIN_SECONDS = 60;

/**
 * One turn's worth: the most one attempt of a turn can spend, held for it while it runs. Tokens: the
 * turn stops calling the model once it has used TURN_MAX_TOKENS, and the call that crossed it can
 * add at most a context window (MODEL_CONTEXT_TOKENS: prompt and answer together). Execution: the
 * turn's code runs one step at a time within its time limit (TURN_TIMEOUT_SECONDS).
 */
export function turnWorth(config: Pick<BudgetPolicyConfig, "TURN_MAX_TOKENS" | "MODEL_CONTEXT_TOKENS" | "TURN_TIMEOUT_SECONDS">): BudgetUse {
  return { tokens: config.TURN_MAX_TOKENS + config.MODEL_CONTEXT_TOKENS, execSeconds: config.TURN_TIMEOUT_SECONDS };
}

/** Which budgets apply to a request, from config: the same limits for every user and every channel. */
export class BudgetPolicy {
  readonly limits: Record<SubjectKind, BudgetLimits>;
  readonly timeZone: string;
  /** What an admitted turn holds against its user's and channel's limits while it runs (see turnWorth). */
  readonly perTurn: BudgetUse;
  /** How long a hold lasts unless released: the turn's time limit and a margin (a worker that died releases nothing). */
  readonly holdMs: number;
  private readonly exempt: ReadonlySet<string>;

  constructor(config: BudgetPolicyConfig) {
    this.limits = { user: limitsOf(config, "USER"), channel: limitsOf(config, "CHANNEL") };
    this.exempt = new Set(config.BUDGET_EXEMPT_USERS);
    this.timeZone = config.BUDGET_TIMEZONE;
    this.perTurn = turnWorth(config);
    this.holdMs = (config.TURN_TIMEOUT_SECONDS + HOLD_MARGIN_SECONDS) * 1000;
  }

  /** Whether any limit is set: with none, nothing is ever refused (usage is counted all the same). */
  get enabled(): boolean {
    return anyLimit(this.limits.user) || anyLimit(this.limits.channel);
  }

  /** The request's user and channel. Both are always counted, limited or not. */
  subjects(request: ChatRequest): BudgetSubject[] {
    return [
      { kind: "user", id: userBudgetId(request), limits: this.limits.user },
      { kind: "channel", id: channelBudgetId(request), limits: this.limits.channel },
    ];
  }

  /** Admins named in BUDGET_EXEMPT_USERS: counted like everyone, never refused. */
  isExempt(request: ChatRequest): boolean {
    return this.exempt.has(userBudgetId(request));
  }
}
