import { boundTurn, type RecordedQuery, type RecordedResult, type ThreadTurnInput } from "./turn-record.js";
import { inertMarkdown, markdownName } from "./inert-markdown.js";

/**
 * A thread's turns as a Jupyter notebook (nbformat 4.5): per turn, the question as a markdown cell,
 * one code cell per execution with its outputs as they were (nothing is run again), the answer as
 * a markdown cell. Pure: the same turns give the same notebook.
 */

type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "execute_result"; execution_count: number; data: { "text/plain": string }; metadata: Record<string, never> }
  | { output_type: "display_data"; data: Record<string, string>; metadata: Record<string, never> }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

type Cell =
  | { cell_type: "markdown"; id: string; metadata: Record<string, never>; source: string }
  | { cell_type: "code"; id: string; metadata: Record<string, never>; execution_count: number; source: string; outputs: Output[] };

export interface Notebook {
  nbformat: 4;
  nbformat_minor: 5;
  metadata: {
    kernelspec: { name: "python3"; display_name: string; language: "python" };
    language_info: { name: "python" };
    title: string;
    codebot: { thread: string; exported_at: string; turns: number };
  };
  cells: Cell[];
}

export interface NotebookFacts {
  /** The thread's name as people know it (the local thread id, a channel and thread). */
  threadName: string;
  exportedAt: Date;
}

function outputsOf(result: RecordedResult, executionCount: number): Output[] {
  const outputs: Output[] = [];
  if (result.stdout) outputs.push({ output_type: "stream", name: "stdout", text: result.stdout });
  if (result.stderr) outputs.push({ output_type: "stream", name: "stderr", text: result.stderr });
  for (const image of result.images) outputs.push({ output_type: "display_data", data: { [image.mime]: image.data, "text/plain": "<Figure>" }, metadata: {} });
  if (result.result !== undefined) outputs.push({ output_type: "execute_result", execution_count: executionCount, data: { "text/plain": result.result }, metadata: {} });
  if (result.error) outputs.push(errorOutput(result.error));
  // Timeouts, restarts, truncation: said by codebot, shown where Jupyter shows warnings.
  if (result.notes.length) outputs.push({ output_type: "stream", name: "stderr", text: result.notes.map((note) => `[codebot] ${note}\n`).join("") });
  return outputs;
}

/** Jupyter shows an error by its traceback alone: it ends with the "Name: value" line, as Python prints it. */
function errorOutput(error: NonNullable<RecordedResult["error"]>): Output {
  const summary = `${error.name}: ${error.value}`.trim();
  const traceback = error.traceback.trimEnd();
  const lines = traceback.endsWith(summary) ? traceback : `${traceback}\n${summary}`.trim();
  return { output_type: "error", ename: error.name, evalue: error.value, traceback: lines.split("\n") };
}

/** A fence longer than any run of backticks in text, so the text can't close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

/** A cell's data-source calls (codebot.sql, fetch) as a markdown cell: source, what it got, the SQL or path as code. */
function queriesCell(queries: RecordedQuery[]): string {
  const parts = queries.map((query) => {
    const got = query.outcome === "ok" || query.outcome === "truncated" ? (query.kind === "sql" ? `${query.rows ?? 0} rows${query.outcome === "truncated" ? " (cut)" : ""}` : `${query.bytes} bytes`) : markdownName(query.outcome);
    const fence = fenceFor(query.text);
    return `**${markdownName(query.source)}** (${markdownName(query.kind)}) · ${got} · ${Math.round(query.ms)} ms\n\n${fence}${query.kind === "sql" ? "sql" : ""}\n${query.text}\n${fence}`;
  });
  return `Data queries of the cell above:\n\n${parts.join("\n\n")}`;
}

/** The notebook of a thread's turns (bounded again here: the builder trusts no input). */
export function buildNotebook(turns: ThreadTurnInput[], facts: NotebookFacts): Notebook {
  const cells: Cell[] = [];
  const add = (cell: Cell extends infer C ? (C extends Cell ? Omit<C, "id"> : never) : never) => cells.push({ ...cell, id: `cell-${cells.length + 1}` } as Cell);
  const markdown = (source: string) => add({ cell_type: "markdown", metadata: {}, source });
  const exportedAt = facts.exportedAt.toISOString();
  const title = `codebot thread ${facts.threadName}`.slice(0, 200);
  markdown(
    `# ${markdownName(title)}\n\nExported ${exportedAt.slice(0, 16).replace("T", " ")} UTC. ` +
      "Each code cell shows the outputs it had when it ran in the thread; running the notebook again needs the thread's files next to it.",
  );
  let executionCount = 0;
  for (const turn of turns.map(boundTurn)) {
    const who = `**${markdownName(turn.userName)}**`;
    if (turn.ranAsWritten) markdown(`${who} ran:`);
    else if (turn.userText.trim()) markdown(`${who}: ${inertMarkdown(turn.userText)}`);
    for (const step of turn.steps) {
      executionCount++;
      add({ cell_type: "code", metadata: {}, execution_count: executionCount, source: step.code, outputs: outputsOf(step.result, executionCount) });
      if (step.result.queries?.length) markdown(queriesCell(step.result.queries));
    }
    if (!turn.ranAsWritten && turn.answerMarkdown.trim()) markdown(inertMarkdown(turn.answerMarkdown));
  }
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "python3", display_name: "Python 3", language: "python" },
      language_info: { name: "python" },
      title,
      codebot: { thread: facts.threadName.slice(0, 200), exported_at: exportedAt, turns: turns.length },
    },
    cells,
  };
}

/** The notebook as a file: `codebot-<thread>-<date>.ipynb`, a name safe on every system. */
export function notebookFile(notebook: Notebook, facts: NotebookFacts): { name: string; data: Buffer } {
  return { name: `${exportBaseName(facts)}.ipynb`, data: Buffer.from(`${JSON.stringify(notebook, null, 1)}\n`) };
}

/** `codebot-<thread>-<YYYY-MM-DD>`: the thread's name as a short ASCII slug. */
export function exportBaseName(facts: NotebookFacts): string {
  const slug = facts.threadName
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32)
    .replace(/-+$/, "");
  return `codebot-${slug || "thread"}-${facts.exportedAt.toISOString().slice(0, 10)}`;
}
