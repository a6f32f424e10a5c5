import type { AnswerEvent } from "../core/answer-events.js";

/**
 * The text the model writes over a turn (before, between and after its code steps), passed on to
 * the people as it comes. The answer is exactly what was passed on, trimmed, so a streamed message
 * ends equal to the answer. Segments (one per model call) are joined by a blank line.
 */
export class WrittenText {
  private emitted = "";
  /** What an attempt that failed midway had already passed on: its retry doesn't say it twice. */
  private replay = "";

  constructor(private readonly emit?: (event: AnswerEvent) => void) {}

  /** The answer so far: everything passed on, trimmed. */
  text(): string {
    return this.emitted.trim();
  }

  /** One model call's text. */
  segment(): WrittenSegment {
    return new WrittenSegment(this);
  }

  /** @internal */
  pass(delta: string): void {
    if (!delta) return;
    this.emitted += delta;
    this.emit?.({ type: "text", delta });
  }

  /** @internal */
  startsNew(): boolean {
    return this.emitted.trim().length > 0;
  }

  /** @internal */
  takeReplay(): string {
    const replay = this.replay;
    this.replay = "";
    return replay;
  }

  /** @internal */
  keepReplay(text: string): void {
    this.replay = text;
  }
}

export class WrittenSegment {
  /** Everything this call's stream said. */
  private received = "";
  /** How much of `received` has been shown (by this call or, for a retry, by its failed attempt). */
  private shown = 0;
  private started = false;
  /** What the failed attempt before this retry showed; cleared once this call says something else. */
  private replay: string;

  constructor(private readonly written: WrittenText) {
    this.replay = written.takeReplay();
    this.started = this.replay.length > 0;
  }

  /** A delta of the model's stream. */
  add(delta: string): void {
    this.received += delta;
    if (this.replay) {
      if (this.replay.startsWith(this.received)) return; // repeating what was already shown
      if (this.received.startsWith(this.replay)) {
        this.shown = this.replay.length;
      } else {
        // The retry says something else: it is written after what the failed attempt showed.
        this.replay = "";
        this.started = false;
        this.shown = 0;
      }
      this.replay = "";
    }
    this.write(this.received.slice(this.shown));
    this.shown = this.received.length;
  }

  /** The call's whole text (for a call that was not streamed, it is passed on now). */
  finish(content: string): void {
    if (!this.received && content) this.add(content);
  }

  /** The call failed: what was shown stays, and its retry won't show it again. */
  abandon(): void {
    const shown = this.replay || this.received.slice(0, this.shown);
    if (this.started && shown) this.written.keepReplay(shown);
  }

  private write(text: string): void {
    if (!this.started) {
      text = text.replace(/^\s+/, "");
      if (!text) return;
      this.started = true;
      if (this.written.startsNew()) this.written.pass("\n\n");
    }
    this.written.pass(text);
  }
}
