import type * as grpc from '@grpc/grpc-js';

/**
 * Ends a client stream so that what was written last reaches the agent. `cancel()` right after a write resets the
 * HTTP/2 stream and may drop that write (a lease release, say); here the stream is half-closed, the agent's own end
 * awaited (it ends its side when ours ends), and only then, or after `timeoutMs`, cancelled.
 */
export function endStream<Req, Res>(stream: grpc.ClientDuplexStream<Req, Res>, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.cancel();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    stream.once('status', finish);
    stream.once('error', finish);
    stream.once('close', finish);
    stream.end();
  });
}
