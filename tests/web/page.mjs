// The approver page in a real headless Chromium, driven by playwright-core
// (run by tests/web/check_web.c, which starts jitd, creates the users and
// requests and passes everything in the environment).
//
//   JITD_URL, JITD_PASSWORD, BOB_OTP, ALICE_OTP   where and how to sign in
//   REQ_ID    alice's pending request, with an XSS payload in its reason
//   REQ2_ID   another pending request, target of the cross-site forms
//   PW_DIR    directory whose node_modules holds playwright-core
//   CHROMIUM  the browser binary;  SHOT_DIR  where screenshots go
//   PHASE     "main" (sign in, XSS, approve, cross-site forms; saves bob's
//             cookies to STATE_FILE) or "mfa" (later, once bob's MFA has
//             gone stale: the banner, a refused revoke, the step-up with
//             BOB_OTP2, and the revoke retried)
//
// Exits 0 when every step passed; prints one line per step.
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
};
const base = env('JITD_URL');
const reqId = env('REQ_ID');
const req2Id = env('REQ2_ID');
const shotDir = env('SHOT_DIR');
const require = createRequire(path.join(env('PW_DIR'), 'node_modules') + '/');
const { chromium } = require('playwright-core');

const step = (msg) => console.log(`page: ${msg}`);
function check(cond, msg) {
  if (!cond) throw new Error(`FAILED: ${msg}`);
  step(`ok: ${msg}`);
}

// Every console message about a Content-Security-Policy violation or a
// script error fails the run: the page must work under its own CSP.
const problems = [];
function watch(page, who) {
  page.on('console', (m) => {
    const t = m.text();
    if (/Content.Security.Policy|Refused to/i.test(t)) problems.push(`${who}: ${t}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
}

async function signIn(page, user, otp) {
  await page.goto(base + '/');
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#login-user', user);
  await page.fill('#login-password', env('JITD_PASSWORD'));
  await page.fill('#login-otp', otp);
  await page.click('#login-submit');
  await page.waitForSelector('#list-view:not([hidden])');
  const name = await page.textContent('#who-name');
  check(name === user, `${user} signed in with password and TOTP`);
}

// A second origin (same host, another port: same-site, so the browser
// does send the SameSite=Strict cookie and only the CSRF check stands in
// the way) serving forms that post to the broker.
function evilServer(target) {
  const pages = {
    '/empty': `<form method="post" action="${target}"><button id="go">go</button></form>`,
    '/form': `<form method="post" action="${target}"><input name="comment" value="pwned"><button id="go">go</button></form>`,
    '/plain': `<form method="post" enctype="text/plain" action="${target}"><input name='{"comment":"x","a' value='"}'><button id="go">go</button></form>`,
  };
  const srv = http.createServer((req, res) => {
    const body = pages[req.url];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html' });
    res.end(body ? `<!DOCTYPE html><html><body>${body}</body></html>` : '');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function crossSitePost(page, url) {
  await page.goto(url);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/approve'), { timeout: 10000 }),
    page.click('#go'),
  ]);
  let body = '';
  try {
    body = await resp.text();
  } catch (e) {
    body = '';
  }
  return { status: resp.status(), body };
}

async function phaseMfa(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 },
    storageState: env('STATE_FILE') });
  const bob = await ctx.newPage();
  bob.setDefaultTimeout(15000);
  watch(bob, 'bob');
  await bob.goto(base + '/');
  await bob.waitForSelector('#list-view:not([hidden])');
  check(await bob.textContent('#who-name') === 'bob', 'the cookie keeps bob signed in across browser restarts');
  await bob.waitForSelector('#mfa-banner:not([hidden])');
  check(true, 'the MFA banner shows once the last code is too old');
  const row = `#live tbody tr[data-id="${reqId}"]`;
  await bob.waitForSelector(row);
  check(true, 'the approved request is listed as a live grant');
  await bob.click(row);
  await bob.waitForFunction(() => document.getElementById('d-state').textContent === 'approved');
  await bob.fill('#d-comment', 'incident over');
  await bob.click('#revoke');
  await bob.waitForFunction(() => document.getElementById('mfa-text').textContent.includes('was not done'));
  check(await bob.textContent('#d-state') === 'approved', 'revoke without a fresh code is refused and says so');
  await bob.screenshot({ path: path.join(shotDir, 'web-mfa.png'), fullPage: true });
  step('screenshot web-mfa.png');
  await bob.fill('#mfa-otp', env('BOB_OTP2'));
  await bob.click('#mfa-form button[type=submit]');
  await bob.waitForFunction(() => document.getElementById('d-state').textContent === 'revoked');
  check(await bob.isHidden('#mfa-banner'), 'after the step-up the banner is gone and the revoke went through');
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 30000,
});
let failed = false;
let evil = null;
try {
  if (env('PHASE') === 'mfa') {
    await phaseMfa(browser);
  } else {
    await phaseMain();
  }
  check(problems.length === 0, `no CSP violations or script errors${problems.length ? ': ' + problems.join(' | ') : ''}`);
} catch (e) {
  failed = true;
  console.log(`page: ${e.message}`);
  if (problems.length) console.log(`page: console: ${problems.join(' | ')}`);
} finally {
  if (evil) evil.close();
  await browser.close();
}
process.exit(failed ? 1 : 0);

async function phaseMain() {
  const bobCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const bob = await bobCtx.newPage();
  bob.setDefaultTimeout(15000);
  watch(bob, 'bob');

  // The page itself: headers as the browser received them.
  const first = await bob.goto(base + '/');
  const h = first.headers();
  check(h['content-security-policy'] && h['content-security-policy'].includes("script-src 'self'") &&
    h['x-frame-options'] === 'DENY' && h['referrer-policy'] === 'no-referrer',
  'the page comes with CSP, X-Frame-Options and Referrer-Policy');

  await signIn(bob, 'bob', env('BOB_OTP'));
  const cookies = await bobCtx.cookies(base + '/v1/');
  const c = cookies.find((x) => x.name === 'jitd_session');
  check(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/v1',
    'the session cookie is HttpOnly, SameSite=Strict, Path=/v1');
  check(await bob.evaluate(() => document.cookie) === '', 'the script cannot read the session cookie');

  // The pending request, with its attacker-controlled reason as text.
  const row = `#approvable tbody tr[data-id="${reqId}"]`;
  await bob.waitForSelector(row);
  const rowText = await bob.textContent(row);
  check(rowText.includes('alice') && rowText.includes('prod-ssh') && rowText.includes('0 of 1'),
    'alice\'s pending request is listed with role and votes');
  check(rowText.includes('<img src=x onerror="window.__xss=1">') &&
    rowText.includes('<script>window.__xss=2</script>'), 'the XSS payload shows as literal text');
  check(await bob.evaluate(() => window.__xss) === undefined, 'no injected script ran');
  check(await bob.locator('main img, main script, main b').count() === 0, 'no element came out of the data');
  check(await bob.isHidden('#mfa-banner'), 'no MFA banner right after sign-in');
  await bob.screenshot({ path: path.join(shotDir, 'web-list.png'), fullPage: true });
  step('screenshot web-list.png');

  // alice watches her own request.
  const aliceCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const alice = await aliceCtx.newPage();
  alice.setDefaultTimeout(15000);
  watch(alice, 'alice');
  await signIn(alice, 'alice', env('ALICE_OTP'));
  const mine = `#mine tbody tr[data-id="${reqId}"] .state`;
  await alice.waitForSelector(mine);
  check(await alice.textContent(mine) === 'pending', 'alice sees her request pending');

  // bob opens the detail view and approves with a comment.
  await bob.click(row);
  await bob.waitForSelector('#detail-view:not([hidden])');
  await bob.waitForFunction((id) => document.getElementById('d-id').textContent === '#' + id, reqId);
  const reason = await bob.textContent('#d-reason');
  check(reason.includes('<script>window.__xss=2</script>'), 'the detail view shows the reason as text');
  check(await bob.textContent('#d-state') === 'pending', 'the detail view says pending');
  check(await bob.isVisible('#approve') && await bob.isVisible('#deny') && await bob.isHidden('#revoke'),
    'approve and deny are offered, revoke is not');
  await bob.fill('#d-comment', 'approved from the page <b>ok</b>');
  await bob.click('#approve');
  await bob.waitForFunction(() => document.getElementById('d-state').textContent === 'approved');
  check(true, 'bob approved; the detail view says approved');
  await bob.waitForSelector('#d-votes-table tbody tr');
  const vote = await bob.textContent('#d-votes-table tbody');
  check(vote.includes('bob') && vote.includes('approved from the page <b>ok</b>'),
    'the vote and its comment (as text) are in the detail view');
  const hist = await bob.textContent('#d-history tbody');
  check(hist.includes('request.create') && hist.includes('request.approve'), 'the history lists create and approve');
  check(await bob.isVisible('#revoke') && await bob.isHidden('#approve'), 'a live grant offers revoke');
  check(await bob.evaluate(() => window.__xss) === undefined, 'still no injected script ran');
  await bob.screenshot({ path: path.join(shotDir, 'web-detail.png'), fullPage: true });
  step('screenshot web-detail.png');

  // alice's page picks the change up by itself (polling).
  await alice.waitForFunction((sel) => {
    const e = document.querySelector(sel);
    return e && e.textContent === 'approved';
  }, mine, { timeout: 15000 });
  check(true, 'alice\'s page shows her request approved without a reload');
  await alice.screenshot({ path: path.join(shotDir, 'web-mine.png'), fullPage: true });

  // Forms from another origin, with bob's cookie in the browser.
  const target = `${base}/v1/requests/${req2Id}/approve`;
  evil = await evilServer(target);
  const eport = evil.address().port;
  const other = await bobCtx.newPage();
  other.setDefaultTimeout(15000);
  let r = await crossSitePost(other, `http://127.0.0.1:${eport}/empty`);
  check(r.status === 403 && r.body.includes('"csrf"'), `an empty form post from another origin is refused (${r.status} ${r.body.trim()})`);
  r = await crossSitePost(other, `http://127.0.0.1:${eport}/form`);
  check(r.status === 415, `a form-encoded post from another origin is refused (${r.status})`);
  r = await crossSitePost(other, `http://127.0.0.1:${eport}/plain`);
  check(r.status === 415, `a text/plain "JSON" post from another origin is refused (${r.status})`);
  r = await crossSitePost(other, `http://localhost:${eport}/empty`);
  check(r.status === 401 || r.status === 403, `a cross-site post gets no cookie at all (${r.status})`);

  // Back on the page: request 2 is still pending for bob.
  await bob.goto(base + '/#/');
  await bob.waitForSelector(`#approvable tbody tr[data-id="${req2Id}"]`);
  check(true, 'the cross-site target is still pending');
  await bobCtx.storageState({ path: env('STATE_FILE') });
}
