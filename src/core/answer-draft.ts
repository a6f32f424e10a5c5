import type { AnswerEvent } from "./answer-events.js";
import type { ExecutionStatus } from "./execution-result.js";

/** A code step as the draft knows it: started, and maybe finished. */
export interface DraftStep {
  step: number;
  code: string;
  status?: ExecutionStatus;
  outcome?: string;
  durationMs?: number;
}

/** Characters that can begin a mention or platform markup (`@everyone`, `<!here>`, `&lt;`). */
const MENTION_START = /[@<&!]/;

/**
 * Where text that is still growing may be cut: at `end`, or before a last word that could still grow
 * into a mention ("@every" before "one", "<!he" before "re>").
 */
export function mentionSafeEnd(text: string, end = text.length): number {
  const head = text.slice(0, end);
  const lastSpace = Math.max(head.lastIndexOf(" "), head.lastIndexOf("\n"), head.lastIndexOf("\t"));
  return MENTION_START.test(head.slice(lastSpace + 1)) ? lastSpace + 1 : end;
}

/**
 * An answer while it is being written: the text so far and its steps, built from answer events.
 * Platform-neutral; each adapter renders it in its own idiom.
 */
export class AnswerDraft {
  text = "";
  readonly steps: DraftStep[] = [];

  apply(event: AnswerEvent): void {
    if (event.type === "text") this.text += event.delta;
    else if (event.type === "step-started") this.steps.push({ step: event.step, code: event.code });
    else {
      const step = this.steps.find((candidate) => candidate.step === event.step);
      if (step) Object.assign(step, { status: event.status, outcome: event.outcome, durationMs: event.durationMs });
    }
  }

  /**
   * How much of the text may be shown now: all of it, except a last word that could still grow
   * into a mention ("@every" before "one"), so a mention is never split between two updates and
   * always reaches the platform whole, where it is defused.
   */
  shownLength(): number {
    return mentionSafeEnd(this.text);
  }

  /** The running step, if one is. */
  running(): DraftStep | undefined {
    return this.steps.find((step) => step.status === undefined);
  }
}
