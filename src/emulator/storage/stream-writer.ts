// Writes the messages of a server-streaming gRPC call with backpressure: at most one message waits
// in gRPC's buffers while the next is being prepared, so a slow client slows the producer down
// instead of batches piling up in memory.
import type { ServerWritableStream } from '@grpc/grpc-js';

export class StreamWriter<T> {
  private pending: Promise<void> = Promise.resolve();
  private readonly cancelled: Promise<void>;

  constructor(private readonly call: ServerWritableStream<unknown, T>) {
    this.cancelled = new Promise((resolve) => {
      if (call.cancelled) resolve();
      else call.once('cancelled', () => resolve());
    });
  }

  /** Queues a message once the previous one has gone out; false once the client has cancelled. */
  async write(message: T): Promise<boolean> {
    if (!(await this.previousWritten())) return false;
    const written = new Promise<void>((resolve, reject) =>
      this.call.write(message, (err?: Error | null) => (err ? reject(err) : resolve())),
    );
    written.catch(() => undefined);
    this.pending = written;
    return true;
  }

  /** Waits until every message written so far has gone out (or the client has cancelled). */
  async flush(): Promise<void> {
    await this.previousWritten();
  }

  /** Flushes and ends the call with status OK. */
  async end(): Promise<void> {
    if (await this.previousWritten()) this.call.end();
  }

  private async previousWritten(): Promise<boolean> {
    const outcome = await Promise.race([
      this.pending.then(() => 'written' as const),
      this.cancelled.then(() => 'cancelled' as const),
    ]);
    return outcome === 'written' && !this.call.cancelled;
  }
}
