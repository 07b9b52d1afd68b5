import t from 'tap';
import { isDns1123Subdomain, isWorkloadDirectory, parseLogPath } from '../src/model/log-path.js';

t.test('valid paths name what they look like', async (t) => {
  t.same(parseLogPath('/'), { kind: 'root' });
  t.same(parseLogPath('/default'), { kind: 'namespace', namespace: 'default' });
  t.same(parseLogPath('/default/web-1.a'), { kind: 'pod', namespace: 'default', pod: 'web-1.a' });
  const ref = { namespace: 'default', pod: 'web-1', container: 'app' };
  t.same(parseLogPath('/default/web-1/app'), { kind: 'container', ref });
  t.same(parseLogPath('/default/web-1/app/2024-02-29'), { kind: 'day', ref, day: '2024-02-29' });
  t.same(parseLogPath('/default/web-1/app/2024-02-29/00.log'), { kind: 'hour', ref, day: '2024-02-29', hour: 0 });
  t.same(parseLogPath('/default/web-1/app/2024-02-29/23.log'), { kind: 'hour', ref, day: '2024-02-29', hour: 23 });
});

t.test('anything else is no such file', async (t) => {
  for (const path of [
    '',
    'default',
    '/default/',
    '/Default',
    '/de_fault',
    '/-default',
    '/default-',
    "/def'ault",
    '/def"ault',
    '/def`ault',
    '/..',
    '/default/..',
    '/default/./x',
    '/def\0ault',
    `/${'a'.repeat(64)}`,
    `/default/${'a'.repeat(254)}`,
    '/default/web/app/2023-02-29',
    '/default/web/app/2024-13-01',
    '/default/web/app/2024-1-01',
    '/default/web/app/24-01-01',
    '/default/web/app/2024-01-01/24.log',
    '/default/web/app/2024-01-01/7.log',
    '/default/web/app/2024-01-01/07.txt',
    '/default/web/app/2024-01-01/07.log/x',
    '/default/web/app..x',
  ]) {
    t.equal(parseLogPath(path), undefined, JSON.stringify(path));
  }
});

t.test('pod names are DNS-1123 subdomains', async (t) => {
  t.ok(isDns1123Subdomain('a.b-c.d'));
  t.notOk(isDns1123Subdomain('a..b'));
  t.notOk(isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`));
});

t.test('a workload directory is @ and a DNS-1123 subdomain where a pod goes', async (t) => {
  t.same(parseLogPath('/shop/@api'), { kind: 'pod', namespace: 'shop', pod: '@api' });
  const ref = { namespace: 'shop', pod: '@api.v2', container: 'app' };
  t.same(parseLogPath('/shop/@api.v2/app/2026-03-27/10.log'), { kind: 'hour', ref, day: '2026-03-27', hour: 10 });
  for (const path of [
    '/shop/@',
    '/shop/@@api',
    '/shop/@Api',
    '/shop/@-api',
    '/shop/@api_x',
    `/shop/@${'a'.repeat(254)}`,
  ]) {
    t.equal(parseLogPath(path), undefined, path);
  }
  t.notOk(isWorkloadDirectory('api'), 'a pod name is not one');
});
