// The settings that choose how query results are read: through the BigQuery Storage Read API, and
// where it is, or as REST pages.
import { READ_APIS, type ReadApi } from '../bigquery/read-api.js';
import type { SettingSpec } from './settings.js';

export const READ_API = {
  key: 'read-api',
  argument: '<api>',
  description:
    'how query results are read: storage (the BigQuery Storage Read API, as Arrow; REST if it cannot be used) or rest',
  defaultValue: 'storage',
  scope: 'mount',
} satisfies SettingSpec;
export const READ_API_ENDPOINT = {
  key: 'read-api-endpoint',
  argument: '<host:port>',
  description:
    'Storage Read API of a BigQuery-compatible server; without it, results of a custom api-endpoint come over REST',
  shownDefault: "Google's",
  scope: 'mount',
} satisfies SettingSpec;

export function parseReadApi(text: string): ReadApi {
  const api = READ_APIS.find((known) => known === text);
  if (api === undefined) throw new Error(`takes one of ${READ_APIS.join(', ')}, not "${text}"`);
  return api;
}

export function parseReadApiEndpoint(text: string): string {
  if (!/^(\[[0-9a-fA-F:]+\]|[^\s:/]+):\d{1,5}$/.test(text)) throw new Error(`takes host:port, not "${text}"`);
  return text;
}
