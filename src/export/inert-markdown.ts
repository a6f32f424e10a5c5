/**
 * Markdown for a notebook's text cells that renders without fetching anything: the model's answer
 * can repeat what sandbox output told it, and a notebook viewer loads `![](https://…?data)` images
 * and `<img src>` tags as soon as the cell is shown. Outside code, an image becomes a plain link
 * and `<` is escaped; code blocks and inline code are left as written (they render as text).
 */
export function inertMarkdown(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && !line.trim().slice(marker.length).trim()) fence = undefined;
        return line;
      }
      if (marker) {
        fence = marker;
        return line;
      }
      // Inline code spans (runs of backticks) stay as they are; the text between them is made inert.
      return line
        .split(/(`+[^`]*`+)/)
        .map((part, i) => (i % 2 ? part : part.replace(/!\[/g, "[").replace(/</g, "&lt;")))
        .join("");
    })
    .join("\n");
}

/** A person's name as plain markdown text: no emphasis, link, heading or HTML made of it. */
export function markdownName(name: string): string {
  return name.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (ch) => `\\${ch}`);
}
