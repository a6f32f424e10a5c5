/** Order statistics for benchmark samples (milliseconds). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (samples: number[]): number => percentile(samples, 50);

export async function timeRuns(runs: number, task: () => Promise<unknown>, between?: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await task();
    samples.push(performance.now() - started);
    await between?.();
  }
  return samples;
}

export function row(label: string, samples: number[]): string {
  return `${label.padEnd(64)} median ${median(samples).toFixed(2).padStart(9)} ms   p95 ${percentile(samples, 95).toFixed(2).padStart(9)} ms   (n=${samples.length})`;
}

/**
 * timeRuns for several subjects (e.g. runtimes), their samples taken in turn, so that a change in the
 * machine's load while the benchmark runs falls on every subject alike.
 */
export async function timeInterleaved<S>(
  runs: number,
  subjects: S[],
  task: (subject: S) => Promise<unknown>,
  between?: (subject: S) => Promise<unknown>,
): Promise<number[][]> {
  const samples = subjects.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [index, subject] of subjects.entries()) {
      const started = performance.now();
      await task(subject);
      samples[index]?.push(performance.now() - started);
      await between?.(subject);
    }
  }
  return samples;
}

/** Runs a benchmark's main and exits: 0 when it finished, 1 (with the error) when it failed. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
