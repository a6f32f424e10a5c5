/**
 * CommonMark as the model writes it → Slack's mrkdwn: *bold*, _italic_, ~strike~, <url|text> links,
 * headings as bold lines, bullets as •, tables kept aligned in a code block. Code keeps its text
 * (fences lose their language tag, which Slack would print). &, < and > are escaped everywhere,
 * code included (Slack shows &lt; in code as <), so only the links made here are links.
 */
const FENCE = /```[^\n`]*\n([\s\S]*?)```/g;
const BOLD = "\u0001";

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function inline(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, i) => {
      if (i % 2 === 1) return escapeMrkdwn(part);
      return escapeMrkdwn(part)
        .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, "<$2|$1>")
        .replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_m, a: string | undefined, b: string | undefined) => `${BOLD}${a ?? b}${BOLD}`)
        .replace(/(^|[^*\w])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1_$2_")
        .replace(/~~(.+?)~~/g, "~$1~")
        .replaceAll(BOLD, "*");
    })
    .join("");
}

function prose(text: string): string {
  const out: string[] = [];
  const table: string[] = [];
  const flushTable = () => {
    if (table.length) out.push("```\n" + escapeMrkdwn(table.join("\n")) + "\n```");
    table.length = 0;
  };
  for (const line of text.split("\n")) {
    if (/^\s*\|.*\|\s*$/.test(line)) {
      if (!/^\s*\|[\s:|-]+\|\s*$/.test(line)) table.push(line.trim());
      continue;
    }
    flushTable();
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    if (heading) out.push(`*${inline(heading[1] ?? "").replace(/\*/g, "")}*`);
    else out.push(inline(line.replace(/^(\s*)[-*+]\s+/, "$1• ")));
  }
  flushTable();
  return out.join("\n");
}

export function markdownToMrkdwn(markdown: string): string {
  let result = "";
  let last = 0;
  for (const match of markdown.matchAll(FENCE)) {
    result += prose(markdown.slice(last, match.index));
    result += "```\n" + escapeMrkdwn((match[1] ?? "").replace(/\n$/, "")) + "\n```";
    last = (match.index ?? 0) + match[0].length;
  }
  return result + prose(markdown.slice(last));
}
