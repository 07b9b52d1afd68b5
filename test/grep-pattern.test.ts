// grep's patterns and kubectl's label selectors, as read before anything is queried: the RE2 text
// BigQuery gets, the line matcher, and the errors for what cannot be run exactly.
import t from 'tap';
import { basicToExtended, grepPattern } from '../src/model/grep-pattern.js';
import { parseLabelSelector, podLabelField } from '../src/model/label-selector.js';

t.test('basic regular expressions read as grep reads them', async (t) => {
  const cases: [string, string][] = [
    ['a\\(b\\)\\{2\\}', 'a(b){2}'],
    ['a(b){2}', 'a\\(b\\)\\{2\\}'],
    ['x\\|y', 'x|y'],
    ['a+b?', 'a\\+b\\?'],
    ['a\\+b\\?', 'a+b?'],
    ['*star', '\\*star'],
    ['^*x', '^\\*x'],
    ['\\(*x\\)', '(\\*x)'],
    ['a^b$c', 'a\\^b\\$c'],
    ['^ab$', '^ab$'],
    ['\\(a$\\)', '(a$)'],
    ['[]a]', '[\\]a]'],
    ['[^]a]', '[^\\]a]'],
    ['[(|)]', '[(|)]'],
    ['[[:digit:]]\\{3\\}', '[0-9]{3}'],
    ['\\.', '\\.'],
  ];
  for (const [basic, extended] of cases) t.equal(basicToExtended(basic), extended, basic);
});

t.test('the line matcher agrees with the pattern BigQuery gets', async (t) => {
  const fixed = grepPattern('a.b(', 'fixed', false);
  t.same([fixed.kind, fixed.text], ['fixed', 'a.b('], 'a fixed string goes as it is');
  t.ok(fixed.matches('x a.b( y'));
  t.notOk(fixed.matches('axb('));
  const folded = grepPattern('ÉCOLE', 'fixed', true);
  t.ok(folded.matches('une école'), '-i folds case beyond ASCII');
  const extended = grepPattern('^(GET|POST) /api [[:digit:]]+$', 'extended', false);
  t.equal(extended.text, '^(GET|POST) /api [0-9]+$', 'POSIX classes spelled out for both engines');
  t.ok(extended.matches('GET /api 200'));
  t.notOk(extended.matches('PUT /api 200'));
  t.ok(grepPattern('end.$', 'extended', false).matches('the end\r'), '. matches a carriage return, as in RE2');
  t.ok(grepPattern('error', 'basic', true).matches('ERROR'), '-i on a regex');
  t.ok(grepPattern('', 'basic', false).matches(''), 'an empty pattern matches every line');
});

t.test('what BigQuery would read differently is refused', async (t) => {
  t.throws(() => grepPattern('(?=x)', 'extended', false), /lookaround assertions/);
  t.throws(() => grepPattern('(a)\\1', 'extended', false), /back-references/);
  t.throws(() => grepPattern('(?i)x', 'extended', false), /use -i, not \(\?i\)/);
  t.throws(() => grepPattern('a\nb', 'fixed', false), /cannot contain a newline/);
  t.throws(() => grepPattern('[[:alfa:]]', 'extended', false), /unknown character class/);
  t.throws(() => grepPattern('[abc', 'extended', false), /unmatched \[/);
  t.throws(() => grepPattern('abc\\', 'basic', false), /trailing backslash/);
  t.doesNotThrow(() => grepPattern('\\\\1', 'extended', false), 'an escaped backslash before 1 is no back-reference');
});

t.test("label selectors in kubectl's syntax", async (t) => {
  t.same(parseLabelSelector('app=api,tier!=db'), [
    { key: 'app', op: 'in', values: ['api'] },
    { key: 'tier', op: 'notin', values: ['db'] },
  ]);
  t.same(parseLabelSelector('app==api'), [{ key: 'app', op: 'in', values: ['api'] }]);
  t.same(parseLabelSelector('env in (prod, staging),team notin (a)'), [
    { key: 'env', op: 'in', values: ['prod', 'staging'] },
    { key: 'team', op: 'notin', values: ['a'] },
  ]);
  t.same(parseLabelSelector('app.kubernetes.io/name,!canary'), [
    { key: 'app.kubernetes.io/name', op: 'exists' },
    { key: 'canary', op: 'absent' },
  ]);
  t.same(parseLabelSelector('app='), [{ key: 'app', op: 'in', values: [''] }], 'an empty value');
  t.equal(podLabelField('app.kubernetes.io/name'), 'k8s_pod_app_kubernetes_io_name');
  t.equal(podLabelField('pod-template-hash'), 'k8s_pod_pod_template_hash');
  t.throws(() => parseLabelSelector('app=a b'), /cannot read "app=a b"/);
  t.throws(() => parseLabelSelector('app,,tier'), /an empty requirement/);
  t.throws(() => parseLabelSelector('-app=x'), /"-app" is not a label key/);
  t.throws(() => parseLabelSelector('app in (a'), /unbalanced \(/);
  t.throws(() => parseLabelSelector(`app=${'x'.repeat(64)}`), /is not a valid value for label app/);
  t.throws(() => parseLabelSelector('Bad_Prefix/app=x'), /is not a label key/);
});
