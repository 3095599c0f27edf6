// tests/web/people.mjs - drive the people administration page
// (#/people/<node>, web/js/people.js) in a real headless Chromium
// (playwright-core, the Debian chromium package) against the server
// tests/integration/test_web_people.sh started and seeded. Every assertion
// goes into $WEB_OUT/results.json as {name, ok, detail}; the shell test
// prints them as PASS/FAIL lines. Exit status 0 when the run completed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save, text } from './lib.mjs';

// The API as the page's user (the token in sessionStorage).
async function apiAs(page, method, p, body) {
	return page.evaluate(async ([m, p2, b]) => {
		const r = await fetch(`/api/v1${p2}`, {
			method: m,
			headers: { Authorization: `Bearer ${sessionStorage.getItem('actlog.token')}`, ...(b ? { 'Content-Type': 'application/json' } : {}) },
			body: b ? JSON.stringify(b) : undefined,
		});
		let j = null;
		try { j = await r.json(); } catch (e) { /* no body */ }
		return { status: r.status, body: j };
	}, [method, p, body]);
}
async function signIn(page, email, pw) {
	await page.goto(`${URL0}/`);
	await page.evaluate(() => sessionStorage.clear());
	await page.goto(`${URL0}/#/login`);
	await page.reload();
	await page.fill('#email', email);
	await page.fill('#password', pw);
	await page.click('form#login button[type=submit]');
	await page.locator('#who-name').waitFor({ timeout: T });
}
// The table's rows as the page shows them.
async function rows(page) {
	return page.$$eval('#people tr[data-id]', (trs) => trs.map((tr) => ({
		id: tr.dataset.id, email: tr.dataset.email,
		login: tr.querySelector('td.login').textContent,
		team: tr.querySelector('td.team').dataset.value,
		state: tr.querySelector('td.state').textContent,
		last: tr.querySelector('td.last').dataset.value,
	})));
}
// Wait (polling from here: the page's CSP forbids eval) until pred(row of
// email, or undefined) holds.
async function waitRow(page, email, pred) {
	const end = Date.now() + T;
	while (Date.now() < end) {
		if (pred((await rows(page)).find((r) => r.email === email))) return;
		await new Promise((res) => setTimeout(res, 100));
	}
}
async function manage(page, email) {
	await page.click(`#people tr[data-email="${email}"] button.manage`);
	await page.locator('#person').waitFor({ timeout: T });
}

const browser = await launch();
let exit = 0;
try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	const consoleErrors = [];
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

	// --- the admin: the list equals the API's ---
	await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PW);
	check('the admin has a People link', await page.locator('#nav a[href^="#/people/"]').count() === 1, 'no link');
	await page.goto(`${URL0}/#/node/${env.PRJ}`);
	await page.locator(`#node-page[data-id="${env.PRJ}"]`).waitFor();
	check('the node page links to its people', await page.locator(`a[href="#/people/${env.PRJ}"]`).count() === 1, 'no link');
	await page.click(`a[href="#/people/${env.PRJ}"]`);
	await page.locator(`#people-page[data-id="${env.PRJ}"] #people`).waitFor();
	const want = JSON.parse(env.WANT_ADMIN);
	const got = await rows(page);
	eq('the list: the API\'s people, in its order', got.map((r) => r.id).join(','), want.map((u) => u.id).join(','));
	eq('the list: teams, logins, states and last sign-ins equal the API\'s',
		JSON.stringify(got.map((r) => [r.login, r.team, r.state, r.last])),
		JSON.stringify(want.map((u) => [u.login || '—', u.team_id, u.disabled ? 'disabled' : 'active', u.last_sign_in || ''])));
	eq('bob shows as disabled', (await rows(page)).find((r) => r.id === env.UB).state, 'disabled');
	check('alice shows her last sign-in', (await text(page, `#people tr[data-id="${env.UA}"] td.last`)).startsWith('20'), 'no time');

	// --- create ---
	await page.fill('#new-email', 'zoe@example.com');
	await page.fill('#new-name', 'Zoe Zimmer');
	await page.fill('#new-login', 'zoe');
	await page.fill('#new-password', 'zoe-first-password');
	await page.selectOption('#new-team', env.TBL);
	await page.click('#people-add button[type=submit]');
	await waitRow(page, 'zoe@example.com', (x) => !!x);
	const zoe = (await rows(page)).find((r) => r.email === 'zoe@example.com');
	check('create: zoe listed', !!zoe, 'no row');
	eq('create: in the blue team, active', zoe && `${zoe.team} ${zoe.state}`, `${env.TBL} active`);
	eq('create: the message', await text(page, '#people-msg'), 'zoe@example.com added.');
	const ZID = zoe.id;

	// --- edit, move, disable, reset ---
	await manage(page, 'zoe@example.com');
	await page.fill('#edit-login', 'zoe.z');
	await page.click('#edit-save');
	await waitRow(page, 'zoe@example.com', (x) => x && x.login === 'zoe.z');
	eq('edit: the new login shown', await text(page, '#people tr[data-email="zoe@example.com"] td.login'), 'zoe.z');
	await page.selectOption('#move-team', env.TR);
	await page.click('#move');
	await waitRow(page, 'zoe@example.com', (x) => x && x.team === env.TR);
	eq('move: the red team shown', await text(page, '#people tr[data-email="zoe@example.com"] td.team'), 'Red team');
	eq('move: the message', await text(page, '#people-msg'), 'Moved to Red team.');
	let r = await apiAs(page, 'GET', `/grants?user_id=${ZID}`);
	eq('move: her employee grant moved with her (API)', r.body.grants.map((g) => `${g.node_id}=${g.role}`).join(','), `${env.TR}=employee`);
	await page.click('#disable');
	await waitRow(page, 'zoe@example.com', (x) => x && x.state === 'disabled');
	eq('disable: shown', await text(page, '#people tr[data-email="zoe@example.com"] td.state'), 'disabled');
	r = await apiAs(page, 'GET', `/users/${ZID}`);
	eq('disable: the API says so', r.body.disabled, true);
	await page.fill('#reset-password', 'zoe-second-password');
	await page.click('#reset');
	await page.waitForFunction(() => document.querySelector('#people-msg')?.textContent.startsWith('Password reset'), null, { timeout: T }).catch(() => {});
	eq('reset: shown as done', await text(page, '#people-msg'), 'Password reset: their sessions ended.');
	await page.click('#enable');
	await waitRow(page, 'zoe@example.com', (x) => x && x.state === 'active');
	r = await page.evaluate(async () => (await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'zoe@example.com', password: 'zoe-second-password' }) })).status);
	eq('reset: the new password signs in', r, 200);

	// --- export: a download of a ZIP ---
	await page.click(`#people tr[data-id="${env.UA}"] button.manage`);
	await page.locator(`#person[data-id="${env.UA}"]`).waitFor();
	const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#export')]);
	const file = path.join(OUT, 'download.zip');
	await dl.saveAs(file);
	const bytes = readFileSync(file);
	eq('export: the download is named after her', dl.suggestedFilename(), `actlog-${env.UA}.zip`);
	eq('export: the bytes are a ZIP', bytes.subarray(0, 4).toString('hex'), '504b0304');
	eq('export: the message', await text(page, '#people-msg'), 'Export downloaded.');
	await page.screenshot({ path: path.join(OUT, 'people.png') });

	// --- erase: a wrong email, then hers ---
	await manage(page, 'zoe@example.com');
	await page.fill('#erase-confirm', 'someone@example.com');
	await page.click('#erase');
	const wrong = await apiAs(page, 'POST', `/users/${ZID}/erase`, { confirm: 'someone@example.com' });
	eq('erase: a wrong email shows the API\'s refusal', await text(page, '#people-msg .error'), `Cannot erase: ${wrong.body.error}`);
	await page.fill('#erase-confirm', 'zoe@example.com');
	await page.click('#erase');
	await page.waitForFunction(() => !document.querySelector('#people tr[data-email="zoe@example.com"]') &&
		document.querySelector('#people-msg')?.textContent === 'zoe@example.com erased.', null, { timeout: 60000 }).catch(() => {});
	eq('erase: done, shown', await text(page, '#people-msg'), 'zoe@example.com erased.');
	eq('erase: she is gone from the list', await page.locator('#people tr[data-email="zoe@example.com"]').count(), 0);
	eq('erase: the API no longer knows her', (await apiAs(page, 'GET', `/users/${ZID}`)).status, 404);

	// --- the manager: her team only; the no-escalation reason shown ---
	await signIn(page, 'mona@example.com', 'password-mona');
	await page.click('#nav a[href^="#/people/"]');
	await page.locator(`#people-page[data-id="${env.TR}"] #people`).waitFor();
	eq('manager: her team\'s people, as the API lists them',
		JSON.stringify((await rows(page)).map((x) => x.id).sort()), env.WANT_MONA);
	eq('manager: the move select offers her team only', await page.$$eval('#new-team option', (o) => o.map((x) => x.value).join(',')), env.TR);
	await manage(page, 'lena@example.com');
	await page.click('#disable');
	eq('manager: the no-escalation refusal, as the API words it', await text(page, '#people-msg .error'), `Cannot disable: ${env.ESC_ERR}`);
	await page.goto(`${URL0}/#/people/${env.TBL}`);
	// the refusal's page has no data-id: the page before (her team's, whose
	// message box holds an error too) must not be read instead
	const refused = await text(page, '#people-page:not([data-id]) .error').catch((e) => `no error (${e.message.split('\n')[0]})`);
	check('manager: another team is refused', refused.startsWith('This node cannot be shown:'), refused);

	// --- an employee: no administration ---
	await signIn(page, 'alice@example.com', 'password-alice');
	eq('employee: no People link', await page.locator('#nav a[href^="#/people/"]').count(), 0);
	await page.goto(`${URL0}/#/people/${env.TR}`);
	check('employee: the page is refused', (await text(page, '#people-page .error')).startsWith('This node cannot be shown:'), 'no error');

	const csp = consoleErrors.filter((m) => /Content Security Policy|pageerror/i.test(m));
	eq('no CSP violation or script error', csp.join('|'), '');
} catch (e) {
	check('the browser run', false, e.stack || e.message);
	exit = 1;
} finally {
	save();
	await browser.close();
}
process.exit(exit);
