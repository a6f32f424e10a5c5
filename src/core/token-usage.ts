/** Model tokens one call, one turn or one person used: what usage is counted and budgets are charged in. */
export interface TokenUsage {
  prompt: number;
  completion: number;
}
