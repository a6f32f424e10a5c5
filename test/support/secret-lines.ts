/**
 * The lines of a process's output that hold a secret: the whole value or any 12-character piece of
 * it (a token cut or wrapped still leaks). Empty when the output is clean.
 */
export function linesHolding(output: string, secrets: string[]): string[] {
  const pieces = secrets.flatMap((secret) => Array.from({ length: Math.max(1, secret.length - 11) }, (_, i) => secret.slice(i, i + 12)));
  return output.split("\n").filter((line) => pieces.some((piece) => line.includes(piece)));
}
