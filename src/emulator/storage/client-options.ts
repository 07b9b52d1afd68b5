// Options that point the official BigQueryReadClient (@google-cloud/bigquery-storage) at the
// emulator's Storage Read API: plain-text gRPC and no credentials.
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';

export interface ReadClientOptions {
  servicePath: string;
  port: number;
  sslCreds: ChannelCredentials;
  /**
   * Given explicitly, it keeps google-auth-library from looking for Application Default Credentials
   * (and probing the GCE metadata server) just to learn the universe domain.
   */
  universeDomain: string;
  [option: string]: string | number | object | undefined;
}

/** `new BigQueryReadClient(emulatorReadClientOptions(emulator.storageAddress))` */
export function emulatorReadClientOptions(storageAddress: string): ReadClientOptions {
  const split = storageAddress.lastIndexOf(':');
  return {
    // The client dials `${servicePath}:${port}`, so an IPv6 host keeps its brackets.
    servicePath: storageAddress.slice(0, split),
    port: Number(storageAddress.slice(split + 1)),
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}
