/**
 * npm run bench:markdown — what the markdown pipeline costs a worker per answer, in CPU time:
 *  1. a 10,000-character answer (paragraphs, a list, code, a table) streamed into Slack, a flush per
 *     240 characters (the model writing ~400 characters/s, a flush per 600 ms): the whole stream, and
 *     one flush at most;
 *  2. the same answer rendered whole: Slack's markdown blocks, its mrkdwn text, Discord's messages;
 *  3. the same for 10,000 characters made of markup in one paragraph, the stream's worst case (each
 *     flush reads the last block again, so a block that never ends costs the most).
 * Baselines, measured in the same run, samples taken in turn: parsing the answer once (micromark,
 * what any reading of it costs), and, with MARKDOWN_BASELINE=<a dist/ built from an earlier commit>,
 * that build's renderers on the same text ("before"), each subject's ratio to its own "before".
 * RUNS (default 20).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseMarkdown } from "../src/core/markdown/markdown-tree.js";
import { discordMarkdown, splitMessage } from "../src/platforms/discord/discord-text.js";
import { markdownBlocks } from "../src/platforms/slack/slack-markdown-blocks.js";
import { markdownToMrkdwn } from "../src/platforms/slack/slack-markdown.js";
import { StreamedMarkdown } from "../src/platforms/slack/slack-stream-markdown.js";
import { median, percentile, row, runBenchmark, timeInterleaved } from "./stats.js";

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

/** The renderers a build offers: this one, or an earlier one loaded from MARKDOWN_BASELINE. */
interface Renderers {
  stream: () => { next(source: string, end: number, final: boolean): string };
  blocks: (markdown: string) => unknown;
  mrkdwn: (markdown: string) => string;
  discord: (markdown: string) => unknown;
}

const CURRENT: Renderers = {
  stream: () => new StreamedMarkdown(),
  blocks: markdownBlocks,
  mrkdwn: markdownToMrkdwn,
  discord: (text) => splitMessage(discordMarkdown(text).text),
};

async function baseline(dist: string): Promise<Renderers> {
  const load = (path: string) => import(pathToFileURL(resolve(dist, "src/platforms", path)).href);
  const [stream, blocks, mrkdwn, discord] = await Promise.all(["slack/slack-stream-markdown.js", "slack/slack-markdown-blocks.js", "slack/slack-markdown.js", "discord/discord-text.js"].map(load));
  return {
    stream: () => new stream.StreamedMarkdown(),
    blocks: blocks.markdownBlocks,
    mrkdwn: mrkdwn.markdownToMrkdwn,
    // Before the pipeline, Discord got the markdown as written, split.
    discord: (text) => (discord.discordMarkdown ? discord.splitMessage(discord.discordMarkdown(text).text) : discord.splitMessage(text)),
  };
}

/** The answer streamed a flush per FLUSH_CHARS characters; each flush's time goes to `flushes`. */
function stream(renderers: Renderers, text: string, flushes: number[]): void {
  const markdown = renderers.stream();
  for (let end = FLUSH_CHARS; end < text.length; end += FLUSH_CHARS) {
    const started = performance.now();
    markdown.next(text, end, false);
    flushes.push(performance.now() - started);
  }
  markdown.next(text, text.length, true);
}

function subjects(renderers: Renderers, text: string, flushes: number[]): Record<string, () => unknown> {
  return {
    [`Slack stream, a flush per ${FLUSH_CHARS} characters`]: () => stream(renderers, text, flushes),
    "Slack markdown blocks": () => renderers.blocks(text),
    "Slack mrkdwn text": () => renderers.mrkdwn(text),
    "Discord messages": () => renderers.discord(text),
  };
}

async function measure(label: string, text: string, before: Renderers | undefined): Promise<void> {
  const flushes = { after: [] as number[], before: [] as number[] };
  const after = subjects(CURRENT, text, flushes.after);
  const earlier = before ? subjects(before, text, flushes.before) : {};
  const names = Object.keys(after);
  const tasks = [() => parseMarkdown(text, "chat"), ...Object.values(after), ...Object.values(earlier)];
  for (const task of tasks) task(); // warm-up
  flushes.after.length = flushes.before.length = 0;
  const samples = await timeInterleaved(RUNS, tasks, async (task) => task());
  const base = median(samples[0] ?? []);
  console.log(`${label} (${text.length.toLocaleString("en-US")} characters, ${RUNS} runs each)`);
  console.log(row("   parse once (baseline)", samples[0] ?? []));
  for (const [i, name] of names.entries()) {
    const times = samples[1 + i] ?? [];
    const old = samples[1 + names.length + i];
    const versus = old ? `   x${(median(times) / median(old)).toFixed(2)} before` : "";
    if (old) console.log(row(`   before: ${name}`, old));
    console.log(`${row(`   ${name}`, times)}   x${(median(times) / base).toFixed(1)} parse${versus}`);
  }
  for (const [when, times] of Object.entries(flushes)) {
    if (times.length) console.log(`   Slack stream, one flush (${when}): median ${median(times).toFixed(3)} ms, p95 ${percentile(times, 95).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms (n=${times.length})`);
  }
}

runBenchmark(async () => {
  const dist = process.env.MARKDOWN_BASELINE;
  const before = dist ? await baseline(dist) : undefined;
  console.log(`codebot markdown benchmark: CPU time per answer${dist ? ` (before: ${dist})` : ""}\n`);
  await measure("1-2. an answer of paragraphs, a list, code and a table", ANSWER, before);
  console.log();
  await measure("3. markup in one paragraph (the stream's worst case)", MARKUP, before);
});
