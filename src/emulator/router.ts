// Minimal method + path-pattern router. Every BigQuery route is reachable both
// under /bigquery/v2/projects/... (client with apiEndpoint) and /projects/...
// (client with BIGQUERY_EMULATOR_HOST).

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface RouteResponse {
  status?: number;
  body?: unknown;
}

export type Handler = (req: RouteRequest) => Promise<RouteResponse> | RouteResponse;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

const API_PREFIX = '/bigquery/v2';

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } | undefined {
    const path = pathname.startsWith(API_PREFIX + '/') ? pathname.slice(API_PREFIX.length) : pathname;
    const parts = path.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        let part: string;
        try {
          part = decodeURIComponent(parts[i]!);
        } catch {
          part = parts[i]!;
        }
        if (seg.startsWith(':')) params[seg.slice(1)] = part;
        else ok = seg === part;
      }
      if (ok) return { handler: route.handler, params };
    }
    return undefined;
  }
}
