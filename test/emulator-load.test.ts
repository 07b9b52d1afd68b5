// `bqlogfs emulator --load FILE` serves log entries from a JSON-lines file as a sink's tables, so a
// mount over it shows them; `--demo` serves the demo's cluster. A bad file is refused with its line.
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, serverArgs, spawnCli, stopCli } from './support/cli-process.js';
import { mountTemp, testDir } from './support/daemon.js';
import { shOk } from './support/shell.js';

const PROJECT = 'load-project';
const DATASET = 'my_logs';

/** Starts `bqlogfs emulator --port 0 <args>` and returns its URL once it listens. */
async function startServer(t: Test, args: string[]): Promise<string> {
  const server = spawnCli(['emulator', '--port', '0', ...args]);
  t.teardown(() => stopCli(server, []).then(() => undefined));
  for (let waited = 0; waited < 120_000; waited += 100) {
    // Listening is said once everything is loaded.
    const url = /"url":"(http:[^"]+)".*"msg":"local BigQuery server listening"/.exec(server.output())?.[1];
    if (url) return url;
    if (server.child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`the server did not start:\n${server.output()}`);
}

const hourAgo = new Date(Date.now() - 3_600_000);
const DAY = hourAgo.toISOString().slice(0, 10);
const HOUR = hourAgo.toISOString().slice(11, 13);
const at = (minute: number, fraction: string) => `${DAY}T${HOUR}:${String(minute).padStart(2, '0')}:00.${fraction}`;

function entry(container: string, stream: string, timestamp: string, payload: Record<string, unknown>) {
  return {
    logName: `projects/${PROJECT}/logs/${stream}`,
    resource: {
      type: 'k8s_container',
      labels: { namespace_name: 'shop', pod_name: 'web-1', container_name: container, cluster_name: 'prod' },
    },
    timestamp,
    severity: stream === 'stderr' ? 'ERROR' : 'INFO',
    // As Cloud Logging prints them: the original keys.
    labels: {
      'logging.gke.io/top_level_controller_name': 'web',
      'logging.gke.io/top_level_controller_type': 'StatefulSet',
    },
    ...payload,
  };
}

t.test('--load serves the entries of a JSON-lines file', async (t) => {
  const dir = await testDir(t, 'load');
  const file = join(dir, 'entries.jsonl');
  const lines = [
    entry('app', 'stdout', `${at(5, '123456789')}Z`, { textPayload: 'nanoseconds are cut to micros', insertId: 'a' }),
    entry('app', 'stderr', `${at(1, '5')}Z`, { textPayload: 'failed: disk full\n', insertId: 'b' }),
    // The same instant written with an offset: 2 minutes past, one hour ahead of UTC.
    entry(
      'app',
      'stdout',
      `${new Date(Date.parse(`${at(2, '000')}Z`) + 3_600_000).toISOString().slice(0, 19)}.25+01:00`,
      {
        jsonPayload: { message: 'json', 'http.status': 200, detail: { ok: true, tags: ['x', 'y'] } },
        insertId: 'c',
      },
    ),
    entry('sidecar', 'stdout', `${at(3, '0')}Z`, { jsonPayload: { message: 'other', detail: { retries: 2 } } }),
  ];
  await writeFile(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n\n');
  const url = await startServer(t, ['--load', file, '--project', PROJECT, '--dataset', DATASET]);
  const { daemon } = await mountTemp(t, serverArgs(url, PROJECT, DATASET));

  t.equal(await shOk('ls shop/web-1', daemon.mountpoint), 'app\nsidecar\n');
  t.equal(
    await shOk(`cat shop/web-1/app/${DAY}/${HOUR}.log`, daemon.mountpoint),
    [
      'failed: disk full',
      '{"message":"json","http_status":200,"detail":{"ok":true,"tags":["x","y"]}}',
      'nanoseconds are cut to micros',
      '',
    ].join('\n'),
    'in time order, offsets read as what they are, keys named as a sink names its columns',
  );
  t.equal(
    await shOk(`cat shop/web-1/sidecar/${DAY}/${HOUR}.log`, daemon.mountpoint),
    // A repeated column is never NULL in BigQuery: an entry without it has an empty array.
    '{"message":"other","detail":{"tags":[],"retries":2}}\n',
    'the columns of every entry are created',
  );
  t.equal(await shOk('ls shop', daemon.mountpoint), '@web\nweb-1\n', 'the controller label gives a workload directory');
  t.equal(
    await shOk(`cat shop/@web/sidecar/${DAY}/${HOUR}.log`, daemon.mountpoint),
    'web-1 {"message":"other","detail":{"tags":[],"retries":2}}\n',
  );
});

t.test('a bad line is refused with the file and line', async (t) => {
  const dir = await testDir(t, 'load-bad');
  const file = join(dir, 'bad.jsonl');
  const good = entry('app', 'stdout', `${at(1, '0')}Z`, { textPayload: 'fine' });
  const noPod = { ...good, resource: { type: 'k8s_container', labels: { namespace_name: 'shop' } } };
  await writeFile(file, `${JSON.stringify(good)}\n${JSON.stringify(noPod)}\n`);
  const run = await runCli(['emulator', '--port', '0', '--load', file]);
  t.equal(run.code, 2, 'a usage error');
  t.match(run.stderr, `${file}:2: resource.labels needs namespace_name, pod_name and container_name`);
});

t.test("--demo serves the demo's cluster", async (t) => {
  const url = await startServer(t, ['--demo', '2']);
  const { daemon } = await mountTemp(t, serverArgs(url, 'demo-project', 'gke_logs'));
  t.equal(await shOk('ls', daemon.mountpoint), 'default\nmonitoring\npayments\n');
  const pods = (await shOk('ls payments', daemon.mountpoint)).split('\n').filter(Boolean);
  t.ok(pods.some((pod) => pod.startsWith('api-')) && pods.some((pod) => pod.startsWith('ledger-')), pods.join(' '));
  t.same(
    pods.filter((pod) => pod.startsWith('@')),
    ['@api', '@ledger'],
    'a workload directory per deployment',
  );
});
