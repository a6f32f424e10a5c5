const FENCED_PYTHON = /^\s*```(?:python|py|python3)?[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/;

/** The code of a message that is only a fenced Python block (run as written, no model), else undefined. */
export function fencedPython(text: string): string | undefined {
  const match = FENCED_PYTHON.exec(text);
  return match?.[1] !== undefined && match[1].trim() ? match[1] : undefined;
}
