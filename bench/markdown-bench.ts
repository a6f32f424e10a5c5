/**
 * npm run bench:markdown — what the markdown pipeline costs a worker per answer, in CPU time:
 *  1. a 10,000-character answer (paragraphs, a list, code, a table) streamed into Slack, a flush per
 *     240 characters (the model writing ~400 characters/s, a flush per 600 ms): the whole stream, and
 *     one flush at most;
 *  2. the same answer rendered whole: Slack's markdown blocks, its mrkdwn text, Discord's messages;
 *  3. the same for 10,000 characters made of markup in one paragraph, the stream's worst case (each
 *     flush reads the last block again, so a block that never ends costs the most).
 * The baseline, measured in the same run, is parsing the answer once (micromark, what any reading of
 * it costs). RUNS (default 20).
 */
import { parseMarkdown } from "../src/core/markdown/markdown-tree.js";
import { discordMarkdown, splitMessage } from "../src/platforms/discord/discord-text.js";
import { markdownBlocks } from "../src/platforms/slack/slack-markdown-blocks.js";
import { markdownToMrkdwn } from "../src/platforms/slack/slack-markdown.js";
import { StreamedMarkdown } from "../src/platforms/slack/slack-stream-markdown.js";
import { median, row, runBenchmark, timeInterleaved } from "./stats.js";

const RUNS = Number(process.env.RUNS ?? 20);
const FLUSH_CHARS = 240;

const paragraph = (i: number) =>
  `Revenue grew in **every region** in quarter ${i}; the north led with 40 units while the south trailed at 5. See [the report](https://example.com/q${i}) and \`df.groupby("region")\` for details.`;
const CODE = "```python\nimport pandas as pd\ndf = pd.read_csv('sales.csv')\nprint(df.groupby('region').units.sum())\n```";
const TABLE = "| region | units |\n|:--|--:|\n| north | 40 |\n| south | 5 |";
const ANSWER = Array.from({ length: 60 }, (_, i) => (i % 10 === 3 ? CODE : i % 10 === 7 ? TABLE : i % 10 === 5 ? `- ${paragraph(i)}\n- item two\n- [ ] item three` : paragraph(i)))
  .join("\n\n")
  .slice(0, 10_000);
const MARKUP = "[x](y) `z` *w* ".repeat(700).slice(0, 10_000);

/** The answer streamed a flush per FLUSH_CHARS characters; the slowest flush is kept in `slowest`. */
function stream(text: string, slowest: number[]): void {
  const markdown = new StreamedMarkdown();
  let worst = 0;
  for (let end = FLUSH_CHARS; end < text.length; end += FLUSH_CHARS) {
    const started = performance.now();
    markdown.next(text, end, false);
    worst = Math.max(worst, performance.now() - started);
  }
  markdown.next(text, text.length, true);
  slowest.push(worst);
}

async function measure(label: string, text: string): Promise<void> {
  const slowest: number[] = [];
  const subjects = {
    "parse once (baseline)": () => parseMarkdown(text, "chat"),
    [`Slack stream, a flush per ${FLUSH_CHARS} characters`]: () => stream(text, slowest),
    "Slack markdown blocks": () => markdownBlocks(text),
    "Slack mrkdwn text": () => markdownToMrkdwn(text),
    "Discord messages": () => splitMessage(discordMarkdown(text).text),
  };
  const tasks = Object.values(subjects);
  for (const task of tasks) task(); // warm-up
  slowest.length = 0;
  const samples = await timeInterleaved(RUNS, tasks, async (task) => task());
  const base = median(samples[0] ?? []);
  console.log(`${label} (${text.length.toLocaleString("en-US")} characters, ${RUNS} runs each)`);
  for (const [i, name] of Object.keys(subjects).entries()) {
    const times = samples[i] ?? [];
    console.log(`${row(`   ${name}`, times)}   x${(median(times) / base).toFixed(1)} baseline`);
  }
  console.log(row("   Slack stream: its slowest flush", slowest));
}

runBenchmark(async () => {
  console.log("codebot markdown benchmark: CPU time per answer\n");
  await measure("1-2. an answer of paragraphs, a list, code and a table", ANSWER);
  console.log();
  await measure("3. markup in one paragraph (the stream's worst case)", MARKUP);
});
