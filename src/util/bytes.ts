/**
 * A web `ReadableStream`'s bytes under a bound: what certgate's HTTP layer (http/requests.ts) and
 * the emulator (emulator/input.ts) read request bodies with, each with its own limit and errors.
 */

/**
 * Every byte of `stream`, refused with `tooLarge()` as soon as more than `limit` arrive (the rest is
 * cancelled, never read), and with `unreadable()` when the stream fails (an aborted upload).
 */
export async function readBounded(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  errors: { tooLarge: () => Error; unreadable: () => Error },
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  // A request stream's bytes are never a SharedArrayBuffer's.
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw errors.unreadable();
    }
    if (chunk.done) return concatBytes(chunks, size) as Uint8Array<ArrayBuffer>;
    size += chunk.value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw errors.tooLarge();
    }
    chunks.push(chunk.value as Uint8Array<ArrayBuffer>);
  }
}

/** `chunks` (of `size` bytes in all) as one array; a single chunk as it is, not copied. */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}
