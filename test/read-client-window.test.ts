// The Storage Read API client announces a large HTTP/2 receive window, per stream and for the
// connection: with grpc-js's default of 64 KiB a ReadRows stream moves at most 64 KiB per network
// round trip (see RECEIVE_WINDOW_BYTES). Checked from the server's side of a real connection: what
// the client's SETTINGS frame and its connection WINDOW_UPDATE said. And a ReadRows call buffers
// one response ahead of its reader, not 16 (readRowsCall).
import { once } from 'node:events';
import { createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createReadClient, RECEIVE_WINDOW_BYTES } from '../src/bigquery/read-client.js';
import { readRowsCall } from '../src/bigquery/storage-results.js';
import { MAX_BATCH_BYTES } from '../src/emulator/storage/record-batches.js';

const HTTP2_DEFAULT_WINDOW = 65_535;

/**
 * A plain-text HTTP/2 server that answers every gRPC call with `body` and then `grpcStatus`, and a
 * read client connected to it; both closed when the test ends.
 */
async function clientOfServer(t: Test, body: Buffer, grpcStatus: string) {
  const sessions: Http2Session[] = [];
  const server = createServer();
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': grpcStatus }));
    stream.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const client = await createReadClient({ readApiEndpoint: `127.0.0.1:${port}`, auth: 'none' });
  t.teardown(() => client.close());
  return { client, sessions };
}

t.test('a ReadRows client announces RECEIVE_WINDOW_BYTES of receive window', async (t) => {
  // Every call answered UNIMPLEMENTED, as by a server without the Storage Read API.
  const { client, sessions } = await clientOfServer(t, Buffer.alloc(0), '12');
  const call = client.createReadSession({ parent: 'projects/p', readSession: { table: 'x', dataFormat: 'ARROW' } });
  const error = await call.then(
    () => undefined,
    (err: unknown) => err as { code?: number },
  );
  t.equal(error?.code, 12, 'the call reached the server and got its answer');

  t.equal(sessions.length, 1, 'one connection');
  const session = sessions[0]!;
  t.ok(RECEIVE_WINDOW_BYTES >= MAX_BATCH_BYTES, "the window holds one of the local server's record batches");
  t.equal(
    session.remoteSettings.initialWindowSize,
    RECEIVE_WINDOW_BYTES,
    `each stream's window is RECEIVE_WINDOW_BYTES, not HTTP/2's default ${HTTP2_DEFAULT_WINDOW}`,
  );
  // The connection's window starts at 65 535 for every peer and grows only by WINDOW_UPDATE frames.
  t.ok(
    (session.state.remoteWindowSize ?? 0) >= RECEIVE_WINDOW_BYTES - 1024 * 1024,
    `the connection's window was raised too (${session.state.remoteWindowSize} bytes)`,
  );
});

t.test('responses the daemon has not asked for yet wait one at a time, not 16', async (t) => {
  const RESPONSES = 40;
  // ReadRows answered at once with RESPONSES empty ReadRowsResponse messages (5-byte gRPC frames).
  const { client } = await clientOfServer(t, Buffer.alloc(5 * RESPONSES), '0');
  const call = readRowsCall(client, { readStream: 'projects/p/locations/l/sessions/s/streams/0', offset: 0 });
  const responses = call[Symbol.asyncIterator]();
  await responses.next();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.ok(call.readableLength <= 2, `responses waiting while none is asked for: ${call.readableLength}`);
  let read = 1;
  while (!(await responses.next()).done) read++;
  t.equal(read, RESPONSES, 'and every response is still delivered');
});
