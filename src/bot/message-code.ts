const FENCE = /```([\w+-]*)[ \t]*\r?\n([\s\S]*?)\r?\n?```/g;
const PYTHON_LABELS = new Set(["", "python", "py", "python3"]);

/**
 * The code to run from someone's message (Discord's "Run code" on a message): its first fenced
 * block labelled python (or not labelled), else the whole text, as written.
 */
export function messageCode(text: string): string {
  for (const match of text.matchAll(FENCE)) {
    if (PYTHON_LABELS.has((match[1] ?? "").toLowerCase()) && match[2]?.trim()) return match[2];
  }
  return text.trim();
}
