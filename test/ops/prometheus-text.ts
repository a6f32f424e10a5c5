/** One sample of Prometheus' text format: `name{label="value",…} 1.5`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses a /metrics answer (comments and blank lines skipped); throws on a line that isn't a sample. */
export function parseMetrics(text: string): Sample[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = LINE.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map(([, key, value]) => [key!, value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The sum of the samples named so whose labels include every given one. */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)).reduce((sum, sample) => sum + sample.value, 0);
}

/** `Authorization: Bearer …` when the endpoints want METRICS_TOKEN; none otherwise. */
export const bearer = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

export async function scrape(base: string, token?: string): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  const response = await fetch(`${base}/metrics`, { headers: bearer(token) });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  return { text, samples: parseMetrics(text), contentType: response.headers.get("content-type") ?? "" };
}

export async function getJson(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: bearer(token) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls until check passes (it throws or returns false meanwhile). */
export async function eventually<T>(check: () => Promise<T | false>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`never passed: ${String(last ?? "false")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
