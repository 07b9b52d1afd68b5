// Scraping a running daemon's Prometheus endpoint (--metrics-port 0): its URL from the daemon's log,
// and the value of one series of the text format.

/** The URL the daemon logged ("serving metrics"), or an error that shows the log. */
export function metricsUrl(logs: string): string {
  const url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(logs)?.[1];
  if (url === undefined) throw new Error(`no metrics URL in the log:\n${logs}`);
  return url;
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.text();
}

/** The value of the first series `name{…}` whose labels include every one of `labels`; NaN if none. */
export function sample(metrics: string, name: string, ...labels: string[]): number {
  const line = metrics
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}{`) && labels.every((label) => candidate.includes(label)));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}
