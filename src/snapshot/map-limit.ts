/**
 * Maps `items` through an async `fn` with at most `limit` calls in flight, keeping input order.
 * Bounds memory (each in-flight file holds its bytes and their encodings) while keeping the zlib
 * thread pool busy on every core.
 *
 * @example await mapWithLimit([1, 2, 3], 2, async (n) => n * 2) // [2, 4, 6]
 */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  // Each worker takes the next unclaimed index; JS is single-threaded, so `next++` cannot race.
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
