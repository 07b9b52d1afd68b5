// Application Default Credentials whose whole token exchange happens on this machine: an
// `external_account` (workload identity federation) credentials file whose subject token is a local
// file and whose `token_url` is a small STS stub served here. google-auth-library reads the subject
// token, posts it to the stub with the client id and secret (HTTP Basic), and sends the access token
// the stub answers as `Authorization: Bearer` on every BigQuery request. Every value is random, so
// finding one in a log can only mean it leaked.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SUBJECT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface Secrets {
  accessToken: string;
  subjectToken: string;
  clientId: string;
  clientSecret: string;
}

export interface TokenExchange {
  secrets: Secrets;
  /** GOOGLE_APPLICATION_CREDENTIALS for the processes that should use these credentials. */
  credentialsFile: string;
  /** Token requests received, and how many of them carried the right subject token and client. */
  requests(): { total: number; accepted: number };
  /** While refusing, every exchange is answered 400 invalid_grant, as STS does for a bad token. */
  setRefusing(refusing: boolean): void;
  close(): Promise<void>;
}

function distinctive(label: string): string {
  return `${label}-${randomBytes(18).toString('hex')}`;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the stub and writes the subject token and the credentials file into `dir`. */
export async function startTokenExchange(dir: string): Promise<TokenExchange> {
  const secrets: Secrets = {
    accessToken: distinctive('ya29.access'),
    subjectToken: distinctive('subject'),
    clientId: distinctive('client'),
    clientSecret: distinctive('secret'),
  };
  const audience =
    '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/test-pool/providers/test-provider';
  const expectedBasic = `Basic ${Buffer.from(`${secrets.clientId}:${secrets.clientSecret}`).toString('base64')}`;
  let total = 0;
  let accepted = 0;
  let refusing = false;

  const server: Server = createServer((request, response) => {
    void bodyOf(request).then((text) => {
      total++;
      const form = new URLSearchParams(text);
      const valid =
        request.method === 'POST' &&
        request.url === '/v1/token' &&
        request.headers.authorization === expectedBasic &&
        form.get('grant_type') === GRANT_TYPE &&
        form.get('audience') === audience &&
        form.get('subject_token_type') === SUBJECT_TOKEN_TYPE &&
        form.get('subject_token') === secrets.subjectToken;
      const answer = (status: number, body: object) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!valid || refusing) {
        answer(400, { error: 'invalid_grant', error_description: 'the subject token was refused' });
        return;
      }
      accepted++;
      answer(200, {
        access_token: secrets.accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: 3600,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const subjectTokenFile = join(dir, 'subject-token');
  await writeFile(subjectTokenFile, secrets.subjectToken, { mode: 0o600 });
  const credentialsFile = join(dir, 'credentials.json');
  const credentials = {
    type: 'external_account',
    audience,
    subject_token_type: SUBJECT_TOKEN_TYPE,
    token_url: `http://127.0.0.1:${port}/v1/token`,
    credential_source: { file: subjectTokenFile },
    client_id: secrets.clientId,
    client_secret: secrets.clientSecret,
  };
  await writeFile(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });

  return {
    secrets,
    credentialsFile,
    requests: () => ({ total, accepted }),
    setRefusing: (value) => {
      refusing = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
