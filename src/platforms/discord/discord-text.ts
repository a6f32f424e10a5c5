/**
 * Discord's 2,000-character message limit: text is split at paragraph, then line, then word
 * boundaries; a code block that must be split is closed and reopened, so no chunk leaves a fence open.
 */
export const DISCORD_MESSAGE_LIMIT = 2000;

function fenceAtEnd(text: string): string | undefined {
  let open: string | undefined;
  for (const match of text.matchAll(/^```(\w*)/gm)) open = open === undefined ? match[1] ?? "" : undefined;
  return open;
}

function cut(text: string, limit: number): number {
  const window = text.slice(0, limit);
  for (const separator of ["\n\n", "\n", " "]) {
    const at = window.lastIndexOf(separator);
    if (at > limit * 0.5) return at + separator.length;
  }
  return limit;
}

export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  let reopen = "";
  while (rest.length) {
    rest = reopen + rest;
    if (rest.length <= limit) {
      chunks.push(rest);
      break;
    }
    const room = limit - 4; // space to close a fence: "\n```"
    let chunk = rest.slice(0, cut(rest, room)).trimEnd();
    const open = fenceAtEnd(chunk);
    if (open !== undefined) chunk += "\n```";
    chunks.push(chunk);
    rest = rest.slice(cut(rest, room)).replace(/^\n+/, "");
    reopen = open !== undefined ? `\`\`\`${open}\n` : "";
  }
  return chunks;
}
