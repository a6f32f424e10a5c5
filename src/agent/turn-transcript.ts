import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";

/** Characters of a cut answer's text kept in the thread's memory. */
const MAX_CUT_TEXT = 8000;

/**
 * A turn as the thread will remember it, written as it happens: the user's message, each of the
 * model's messages (text and tool calls), each tool result, and the text of a model call cut short.
 * A turn that ends early (stopped, failed, timed out) is remembered up to where it got, so the
 * model's next turn knows what was said and which code already ran and changed the session.
 */
export class TurnTranscript {
  readonly messages: ChatCompletionMessageParam[] = [];
  /** What the model call in progress had written when it was cut; cleared when a call completes. */
  private cutText = "";

  add(message: ChatCompletionMessageParam): void {
    this.messages.push(message);
  }

  /** The model call failed or was stopped after writing `text` (streamed). */
  cut(text: string): void {
    this.cutText = text;
  }

  /** A model call completed: its message is added by the loop, nothing of it is cut. */
  completed(): void {
    this.cutText = "";
  }

  /** Whether anything beyond the user's message happened: the model said something, or code ran. */
  get eventful(): boolean {
    return this.messages.length > 1 || this.cutText.trim().length > 0;
  }

  /**
   * The turn as remembered when it ended early for `reason` (a sentence): every tool call the model
   * asked for is answered (one that never ran says so, since an API rejects a call left without
   * its result), then the text the cut call had written and a note of why it ends there.
   */
  interrupted(reason: string): ChatCompletionMessageParam[] {
    const remembered = [...this.messages];
    let lastAsk = remembered.length - 1;
    while (lastAsk >= 0 && !(remembered[lastAsk]?.role === "assistant" && (remembered[lastAsk] as { tool_calls?: unknown[] }).tool_calls?.length)) lastAsk--;
    const asked = lastAsk >= 0 ? remembered[lastAsk] : undefined;
    if (asked?.role === "assistant") {
      const answered = new Set(remembered.slice(lastAsk + 1).flatMap((message) => (message.role === "tool" ? [message.tool_call_id] : [])));
      for (const call of asked.tool_calls ?? []) {
        if (!answered.has(call.id)) remembered.push({ role: "tool", tool_call_id: call.id, content: `not run: the request ended first (${reason})` });
      }
    }
    const text = this.cutText.trim();
    const kept = text.length > MAX_CUT_TEXT ? `${text.slice(0, MAX_CUT_TEXT)} […]` : text;
    remembered.push({ role: "assistant", content: [kept, `(This answer was cut off here: ${reason})`].filter(Boolean).join("\n\n") });
    return remembered;
  }
}
