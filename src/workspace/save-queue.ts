/**
 * Each session's saves to its workspace in flight, one after the other in the order they were
 * asked, with the notes of those that went wrong (for the turn's answer). A save never rejects: it
 * turns its own failure into a note.
 */
export class SaveQueue {
  private readonly saving = new Map<string, { done: Promise<void>; notes: string[] }>();

  /** Queues a save after the session's earlier ones; what it returns are notes for the answer. */
  add(sessionId: string, save: () => Promise<string[]>): void {
    const saving = this.saving.get(sessionId) ?? { done: Promise.resolve(), notes: [] };
    saving.done = saving.done.then(async () => {
      saving.notes.push(...(await save()));
    });
    this.saving.set(sessionId, saving);
  }

  /** Waits for the session's saves in flight (their notes stay for settle). */
  async saved(sessionId: string): Promise<void> {
    await this.saving.get(sessionId)?.done;
  }

  /** Waits for the session's saves in flight; returns what went wrong with them, once. */
  async settle(sessionId: string): Promise<string[]> {
    const saving = this.saving.get(sessionId);
    if (!saving) return [];
    await saving.done;
    if (this.saving.get(sessionId) === saving) this.saving.delete(sessionId);
    return [...new Set(saving.notes.splice(0))];
  }
}
