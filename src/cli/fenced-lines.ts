import { closesFence, fenceOpening, type FenceOpening } from "../core/markdown/fenced-code.js";

/**
 * Gathers a terminal's lines into messages: a line is a message, except that a line opening a
 * fenced code block (```python, or ```, by CommonMark's rules: fenced-code.ts) starts a message that
 * takes every line up to the closing fence, as typed (indentation kept), so a pasted or typed block
 * is sent whole, as one message.
 */
export class FencedLines {
  private block: string[] | undefined;
  private fence: FenceOpening | undefined;

  /** True while inside a block, waiting for its closing fence. */
  get open(): boolean {
    return this.block !== undefined;
  }

  /** The message this line completes, if any: the line itself (trimmed), or the whole block once closed. */
  feed(raw: string): string | undefined {
    const line = raw.replace(/\r$/, "");
    if (this.block && this.fence) {
      this.block.push(line);
      if (!closesFence(line, this.fence)) return undefined;
      const message = this.block.join("\n");
      this.block = undefined;
      return message;
    }
    const opening = fenceOpening(line);
    if (!opening) return line.trim();
    this.fence = opening;
    this.block = [line.trim()];
    return undefined;
  }

  /** Drops a block being typed (Ctrl-C); true if there was one. */
  discard(): boolean {
    const had = this.open;
    this.block = undefined;
    return had;
  }
}
