/**
 * A turn's time span by span, for `npm run bench:pipeline`: the worker's spans (src/core/turn-spans.ts)
 * and the benchmark's own (enqueue, reply read), all on performance.now(), one clock for the process.
 */
import { watchTurnSpans, type TurnSpan } from "../src/core/turn-spans.js";
import { median } from "./stats.js";

/** The rows of the table, in the order a turn meets them; "path" rows are on the way to the answer. */
export const SPAN_ROWS = [
  "enqueue + claim (enqueue called -> worker runs it)",
  "thread order",
  "budget admit",
  "status messages",
  "memory read",
  "model calls (2)",
  "execution, host side",
  "execution, sandbox side",
  "memory write",
  "export record",
  "checkpoint",
  "outputs",
  "delivery",
  "reply read (delivered -> read)",
  "other (turn - rows above)",
  "whole turn",
  "(the enqueue call itself, overlapping the claim)",
] as const;
export type SpanRow = (typeof SPAN_ROWS)[number];

/** The spans of one turn as the benchmark saw it. */
export interface TurnTimes {
  enqueueStart: number;
  enqueueEnd: number;
  answerRead: number;
}

/** Collects the worker's spans by turn while it runs. */
export class SpanRecorder {
  private readonly byTurn = new Map<string, TurnSpan[]>();
  private readonly stop: () => void;

  constructor() {
    this.stop = watchTurnSpans((span) => {
      if (!span.turn) return;
      const list = this.byTurn.get(span.turn) ?? [];
      list.push(span);
      this.byTurn.set(span.turn, list);
    });
  }

  spans(turn: string): TurnSpan[] {
    return this.byTurn.get(turn) ?? [];
  }

  close(): void {
    this.stop();
  }

  /** One turn's rows (ms); undefined when the worker's spans of it are missing. */
  rows(turn: string, times: TurnTimes): Record<SpanRow, number> | undefined {
    const spans = this.spans(turn);
    const sum = (name: string) => spans.filter((span) => span.name === name).reduce((total, span) => total + span.end - span.start, 0);
    const claimed = spans.find((span) => span.name === "claimed");
    const delivered = spans.find((span) => span.name === "delivery");
    if (!claimed || !delivered) return undefined;
    const executions = spans.filter((span) => span.name === "execution");
    const sandbox = executions.reduce((total, span) => total + (span.sandboxMs ?? 0), 0);
    const row: Partial<Record<SpanRow, number>> = {
      "enqueue + claim (enqueue called -> worker runs it)": claimed.start - times.enqueueStart,
      "(the enqueue call itself, overlapping the claim)": times.enqueueEnd - times.enqueueStart,
      "thread order": sum("thread order"),
      "budget admit": sum("budget admit"),
      "status messages": sum("status"),
      "memory read": sum("memory read"),
      "model calls (2)": sum("model call"),
      "execution, host side": sum("execution") - sandbox,
      "execution, sandbox side": sandbox,
      "memory write": sum("memory write"),
      "export record": sum("export record"),
      checkpoint: sum("checkpoint"),
      outputs: sum("outputs"),
      delivery: sum("delivery"),
      "reply read (delivered -> read)": times.answerRead - delivered.end,
      "whole turn": times.answerRead - times.enqueueStart,
    };
    const accounted = SPAN_ROWS.slice(0, SPAN_ROWS.indexOf("other (turn - rows above)")).reduce((total, name) => total + (row[name] ?? 0), 0);
    row["other (turn - rows above)"] = (row["whole turn"] ?? 0) - accounted;
    return row as Record<SpanRow, number>;
  }

  /** How many times the turn's code ran (exactly once expected). */
  executions(turn: string): number {
    return this.spans(turn).filter((span) => span.name === "execution").length;
  }
}

/** Medians per row over turns. */
export function medianRows(rows: Array<Record<SpanRow, number>>): Record<SpanRow, number> {
  return Object.fromEntries(SPAN_ROWS.map((name) => [name, median(rows.map((row) => row[name]))])) as Record<SpanRow, number>;
}

/** A markdown table: one row per span, one column per labelled set of medians. */
export function breakdownTable(columns: Array<{ label: string; medians: Record<SpanRow, number> }>): string {
  const header = `| span (median ms) | ${columns.map((column) => column.label).join(" | ")} |`;
  const rule = `|---|${columns.map(() => "---:").join("|")}|`;
  const lines = SPAN_ROWS.map((name) => `| ${name} | ${columns.map((column) => column.medians[name].toFixed(2)).join(" | ")} |`);
  return [header, rule, ...lines].join("\n");
}
