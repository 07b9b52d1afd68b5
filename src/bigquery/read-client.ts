// The BigQuery Storage Read API client a mount reads query results through, and where it connects:
// Google's endpoint with Application Default Credentials, or a local server's gRPC port in plain text.
// The client (gRPC, protobufs) and apache-arrow load only when the first result is read.
import { setDefaultHighWaterMark } from 'node:stream';
import type { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import { sendsCredentials, type AuthMode } from './client.js';

export interface ReadClientTarget {
  apiEndpoint?: string;
  /** `host:port` of the Storage Read API; Google's when absent. */
  readApiEndpoint?: string;
  auth?: AuthMode;
}

/** Why results of this target are read over REST whatever is asked, or undefined when they need not be. */
export function restOnlyReason(target: ReadClientTarget): string | undefined {
  if (target.apiEndpoint !== undefined && target.readApiEndpoint === undefined) {
    return '--api-endpoint is set but --read-api-endpoint is not, so the Storage Read API of that server is unknown';
  }
  return undefined;
}

/**
 * The HTTP/2 receive window the client announces, per stream and for the connection. grpc-js keeps
 * HTTP/2's 64 KiB unless told otherwise, and a server may send no more than the window before the
 * client's WINDOW_UPDATE comes back, so a ReadRows stream moved at most 64 KiB per round trip: a
 * cold 100 MiB hour took 65 s at 20 ms of round trip instead of 5 s. Measured at 20 ms
 * (docs/performance.md), 1 MiB took 9 s, 2 MiB 6.6 s and 4 MiB 4.6 s for 100 MiB; for 1 GiB, once
 * the daemon read faster, 4 MiB 19.3 s, 8 MiB 15.4 s and 16 MiB 12.1 s. The window is memory the
 * server may fill ahead of the daemon: with no round trip, 16 MiB then took the daemon's peak RSS to
 * 199-204 MB, over the 200 MB it is held to. Once the daemon's full garbage collections were few
 * (its heap growing factor), it kept up with the stream, and 16 MiB measured as 8 MiB with no round
 * trip (peak RSS 171-200 MB both) and took 7.1-7.4 s against 10.0-10.2 s at 20 ms.
 */
export const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Node's object-mode streams buffer 16 objects by default, grpc-js's ReadRows call among them: with
 * a window that lets the server run ahead, responses of several MiB waited there long enough to
 * outlive the young generation. One per stream, with google-gax's own stream limited likewise
 * (`readRowsCall`), brought the daemon's peak RSS for a cold 100 MiB hour from 193–281 MB back to
 * 177–189 MB. It is the process's default for object-mode streams made from now on; in the daemon
 * those are gRPC's.
 */
const OBJECT_STREAM_BUFFERED = 1;

export async function createReadClient(target: ReadClientTarget): Promise<BigQueryReadClient> {
  // The read client's own module: the package's index also loads its write clients, the managed
  // writer and the beta clients, which the daemon never uses. Through the index the daemon idled at
  // about 10 MB more RSS and 7 MB more live heap, which its heap flags let grow threefold.
  const { BigQueryReadClient } = await import('@google-cloud/bigquery-storage/build/src/v1/big_query_read_client.js');
  setDefaultHighWaterMark(true, OBJECT_STREAM_BUFFERED);
  const window = { 'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES };
  const endpoint = target.readApiEndpoint;
  if (endpoint === undefined) return new BigQueryReadClient(window);
  const { hostAndPort, plainTextReadClientOptions } = await import('./plain-text-read-client.js');
  if (sendsCredentials(target.auth, `http://${endpoint}`)) {
    return new BigQueryReadClient({ ...hostAndPort(endpoint), ...window });
  }
  return new BigQueryReadClient({ ...plainTextReadClientOptions(endpoint), ...window });
}
