/**
 * Makes a ReadableStream async-iterable where the runtime does not (Safari): `for await` is how most
 * code reads a subscription. Breaking out of the loop cancels the stream, as the standard says.
 */
export function asyncIterable<T>(stream: ReadableStream<T>): ReadableStream<T> & AsyncIterable<T> {
  const s = stream as ReadableStream<T> & Partial<AsyncIterable<T>>;
  if (typeof s[Symbol.asyncIterator] === 'function') return s as ReadableStream<T> & AsyncIterable<T>;
  Object.defineProperty(s, Symbol.asyncIterator, {
    configurable: true,
    value: async function* () {
      const reader = stream.getReader();
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            finished = true;
            return;
          }
          yield value;
        }
      } finally {
        if (!finished) await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
    },
  });
  return s as ReadableStream<T> & AsyncIterable<T>;
}
