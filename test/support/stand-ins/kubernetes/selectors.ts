/**
 * Label and field selectors of list and watch requests, as the API server reads them: equality
 * (`a=b`, `a==b`, `a!=b`), existence (`a`, `!a`) and sets (`a in (x,y)`, `a notin (x)`) for labels;
 * the few fields pods are selectable by. A selector the API server would refuse throws.
 */
export class SelectorError extends Error {}

type Labels = Record<string, string> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas outside parentheses. */
function requirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of selector) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += char;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== "");
}

function checked(key: string, values: string[], requirement: string): void {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${requirement}"`);
  for (const value of values) if (!VALUE.test(value)) throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${requirement}"`);
}

function requirement(text: string): LabelMatcher {
  let match: RegExpExecArray | null;
  if ((match = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text))) {
    const [, key, operator, list] = match as unknown as [string, string, string, string];
    const values = list.split(",").map((value) => value.trim());
    checked(key, values, text);
    const has = (labels: Labels) => labels?.[key] !== undefined && values.includes(labels[key]!);
    return operator === "in" ? has : (labels) => !has(labels);
  }
  if ((match = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text))) {
    const [, key, operator, value] = match as unknown as [string, string, string, string];
    checked(key, [value], text);
    return operator === "!=" ? (labels) => labels?.[key] !== value : (labels) => labels?.[key] === value;
  }
  if ((match = /^(!?)([^=!\s()]+)$/.exec(text))) {
    const [, not, key] = match as unknown as [string, string, string];
    checked(key, [], text);
    return not ? (labels) => labels?.[key] === undefined : (labels) => labels?.[key] !== undefined;
  }
  throw new SelectorError(`unable to parse requirement: "${text}"`);
}

export function labelSelector(selector: string | null): LabelMatcher {
  if (!selector) return () => true;
  const all = requirements(selector).map(requirement);
  return (labels) => all.every((matches) => matches(labels));
}

/** The pod fields a fieldSelector may name here (the API server has a few more: spec.restartPolicy…). */
const POD_FIELDS: Record<string, (pod: any) => string> = {
  "metadata.name": (pod) => pod.metadata.name,
  "metadata.namespace": (pod) => pod.metadata.namespace,
  "spec.nodeName": (pod) => pod.spec.nodeName ?? "",
  "status.phase": (pod) => pod.status?.phase ?? "",
};

export function fieldSelector(selector: string | null): (pod: any) => boolean {
  if (!selector) return () => true;
  const tests = requirements(selector).map((text) => {
    const match = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
    if (!match) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${text}'`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    const read = POD_FIELDS[field];
    if (!read) throw new SelectorError(`"${field}" is not a known field selector: only "${Object.keys(POD_FIELDS).join('", "')}"`);
    return operator === "!=" ? (pod: any) => read(pod) !== value : (pod: any) => read(pod) === value;
  });
  return (pod) => tests.every((matches) => matches(pod));
}
