import type { FileHandle } from 'node:fs/promises';

/** Writes bytes in full, or rejects; the next call waits for the previous one. */
export type ByteSink = (bytes: Buffer) => Promise<void>;

/** Pieces are gathered into writes of about this many bytes: few system calls, little memory. */
const batchBytes = 1 << 20;

/**
 * Writes text pieces in order through `sink`, in batches of about 1 MiB,
 * awaiting each write (so a slow reader holds the writer back, and at most
 * one batch is in memory). Rejects with the sink's error; what was written
 * before it stays written.
 */
export async function writeChunks(pieces: Iterable<string>, sink: ByteSink): Promise<void> {
  let batch: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    batch.push(piece);
    length += piece.length;
    if (length >= batchBytes) {
      await sink(Buffer.from(batch.join('')));
      batch = [];
      length = 0;
    }
  }
  if (length > 0) await sink(Buffer.from(batch.join('')));
}

/** A sink onto an open file: loops until every byte is written (a write may take fewer). */
export function fileSink(handle: FileHandle): ByteSink {
  return async (bytes) => {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
  };
}

/**
 * A sink onto a stream (standard output): each write resolves once the
 * stream has handed the bytes on, and rejects on the stream's error (EPIPE:
 * the reader went away), which would otherwise crash the process.
 */
export function streamSink(stream: NodeJS.WritableStream): ByteSink {
  return (bytes) => new Promise((resolveWrite, reject) => {
    // Left attached after a failure: a stream that failed once may emit 'error' again.
    const onError = (error: unknown): void => reject(error);
    stream.on('error', onError);
    stream.write(bytes, (error) => {
      if (error === null || error === undefined) {
        stream.off('error', onError);
        resolveWrite();
      } else {
        reject(error);
      }
    });
  });
}
