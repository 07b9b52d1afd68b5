// Options that point the official BigQueryReadClient (@google-cloud/bigquery-storage) at the
// emulator's Storage Read API: plain-text gRPC and no credentials, as a mount connects to it.
import { plainTextReadClientOptions } from '../../bigquery/plain-text-read-client.js';

/** `new BigQueryReadClient(emulatorReadClientOptions(emulator.storageAddress))` */
export const emulatorReadClientOptions = plainTextReadClientOptions;
