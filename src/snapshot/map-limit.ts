/** A second bound on calls in flight: the sum of their costs (e.g. bytes being compressed). */
export interface CostBudget<T> {
  readonly cost: (item: T) => number;
  /** Calls start only while the running costs plus theirs stay within this; one always may. */
  readonly max: number;
}

/**
 * Maps `items` through an async `fn` with at most `limit` calls in flight, keeping input order.
 * Bounds memory (each in-flight file holds its bytes and their encodings) while keeping the zlib
 * thread pool busy on every core.
 *
 * With a `budget`, calls also start only while their summed cost fits. Items are started in order,
 * except that one which does not fit yet lets later, smaller ones go first: while one large file
 * holds most of the budget, small ones keep the other cores busy.
 *
 * @example await mapWithLimit([1, 2, 3], 2, async (n) => n * 2) // [2, 4, 6]
 * @example await mapWithLimit(files, 4, compressFile, { cost: (f) => f.size, max: 4 << 20 })
 */
export function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  budget?: CostBudget<T>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const slots = Math.max(1, Math.floor(limit));
  const costOf = (index: number) => budget?.cost(items[index] as T) ?? 0;
  const waiting = Array.from(items, (_, index) => index);
  let running = 0;
  let runningCost = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    let failed = false;
    const pump = (): void => {
      if (done === items.length) {
        resolve(results);
        return;
      }
      for (let i = 0; i < waiting.length && running < slots && !failed; ) {
        const index = waiting[i] as number;
        const cost = costOf(index);
        if (running > 0 && budget !== undefined && runningCost + cost > budget.max) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        start(index, cost);
      }
    };
    const start = (index: number, cost: number): void => {
      running++;
      runningCost += cost;
      fn(items[index] as T, index).then(
        (result) => {
          results[index] = result;
          running--;
          runningCost -= cost;
          done++;
          pump();
        },
        (error: unknown) => {
          failed = true;
          reject(error);
        },
      );
    };
    pump();
  });
}
