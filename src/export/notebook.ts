import { boundTurn, type RecordedQuery, type RecordedResult, type ThreadTurnInput } from "./turn-record.js";
import { MAX_NOTEBOOK_MARKDOWN_CHARS, NotebookMarkdownBudget, queriesMarkdown, speaker, speakerLine, titleMarkdown } from "./notebook-markdown.js";

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

/** A cell's data-source calls (codebot.sql, fetch) as a markdown cell: source, what it got, the SQL or path as code. */
function queriesCell(queries: RecordedQuery[]): string {
  return queriesMarkdown(
    "Data queries of the cell above:",
    queries.map((query) => ({
      source: query.source,
      detail: ` (${query.kind}) · ${query.outcome === "ok" || query.outcome === "truncated" ? (query.kind === "sql" ? `${query.rows ?? 0} rows${query.outcome === "truncated" ? " (cut)" : ""}` : `${query.bytes} bytes`) : query.outcome} · ${Math.round(query.ms)} ms`,
      code: query.text,
      lang: query.kind === "sql" ? "sql" : null,
    })),
  );
}

/** Lets other work of the worker run between turns: a long thread's markdown takes a while to parse. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The notebook of a thread's turns (bounded again here: the builder trusts no input). Markdown
 * cells go through the markdown pipeline (notebook-markdown.ts): nothing in them loads anything.
 */
export async function buildNotebook(turns: ThreadTurnInput[], facts: NotebookFacts): Promise<Notebook> {
  const cells: Cell[] = [];
  const add = (cell: Cell extends infer C ? (C extends Cell ? Omit<C, "id"> : never) : never) => cells.push({ ...cell, id: `cell-${cells.length + 1}` } as Cell);
  const markdown = (source: string) => add({ cell_type: "markdown", metadata: {}, source });
  const exportedAt = facts.exportedAt.toISOString();
  const title = `codebot thread ${facts.threadName}`.slice(0, 200);
  markdown(
    titleMarkdown(
      title,
      `Exported ${exportedAt.slice(0, 16).replace("T", " ")} UTC. Each code cell shows the outputs it had when it ran in the thread; running the notebook again needs the thread's files next to it.`,
    ),
  );
  let executionCount = 0;
  const budget = new NotebookMarkdownBudget();
  for (const turn of turns.map(boundTurn)) {
    if (turn.ranAsWritten) markdown(speakerLine(turn.userName, " ran:"));
    else if (turn.userText.trim()) markdown(budget.cell(turn.userText, speaker(turn.userName)));
    for (const step of turn.steps) {
      executionCount++;
      add({ cell_type: "code", metadata: {}, execution_count: executionCount, source: step.code, outputs: outputsOf(step.result, executionCount) });
      if (step.result.queries?.length) markdown(queriesCell(step.result.queries));
    }
    if (!turn.ranAsWritten && turn.answerMarkdown.trim()) markdown(budget.cell(turn.answerMarkdown));
    await breathe();
  }
  if (budget.plainCells) {
    const count = budget.plainCells;
    markdown(`_${count} ${count === 1 ? "text is" : "texts are"} shown as plain text: a notebook formats at most ${MAX_NOTEBOOK_MARKDOWN_CHARS.toLocaleString("en-US")} characters of markdown._`);
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
