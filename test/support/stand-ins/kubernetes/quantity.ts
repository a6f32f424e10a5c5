/**
 * Kubernetes resource quantities ("500m", "1Gi", "2", "1e3", "128974848"), as the API server
 * parses them: a number with an optional binary (Ki…Ei), decimal (n u m k M G T P E) or exponent
 * suffix. Returns the value in base units (cores, bytes); throws on anything else.
 */
const SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export class QuantityError extends Error {}

export function parseQuantity(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") throw new QuantityError(`quantities must match the regular expression '${QUANTITY.source}'`);
  const match = QUANTITY.exec(value);
  if (!match) throw new QuantityError(`quantities must match the regular expression '${QUANTITY.source}'`);
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  return /^[eE]/.test(suffix) ? number * 10 ** Number(suffix.slice(1)) : number * SUFFIXES[suffix]!;
}
