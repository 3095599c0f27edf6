// tests/web/dashboard.mjs - drive the actlog dashboard in a real headless
// Chromium (playwright-core, the Debian chromium package) against the
// server tests/integration/test_web.sh started and seeded. Every assertion
// goes into $WEB_OUT/results.json as {name, ok, detail}; the shell test
// prints them as PASS/FAIL lines. Exit status 0 when the run completed.
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save, text, visible } from './lib.mjs';

const browser = await launch();
let exit = 0;
try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	const dialogs = [];
	const consoleErrors = [];
	page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

	// --- sign-in ---
	await page.goto(`${URL0}/`);
	check('the sign-in form shows', await visible(page, 'form#login'), 'no form#login');
	await page.fill('#email', env.ADMIN_EMAIL);
	await page.fill('#password', 'not the password');
	await page.click('form#login button[type=submit]');
	eq('a wrong password shows the API error', await text(page, '#login-msg .error'), env.WRONG_PW_ERR);
	eq('no token after a failed sign-in', await page.evaluate(() => sessionStorage.getItem('actlog.token')), null);
	await page.fill('#password', env.ADMIN_PW);
	await page.click('form#login button[type=submit]');

	// --- overview and the organisation tree ---
	check('the overview shows the organisation tree', await visible(page, '#org-tree li'), 'no #org-tree');
	const tok = await page.evaluate(() => sessionStorage.getItem('actlog.token'));
	check('the token is in sessionStorage', tok && tok.startsWith('alt_'), tok);
	eq('nothing in localStorage', await page.evaluate(() => localStorage.length), 0);
	eq('the business is in the tree', await text(page, `#org-tree li[data-id="${env.B}"] > a`), 'Acme');
	check('grants list the admin role', (await text(page, '#grants')).includes('admin'), 'no admin grant');
	for (const id of [env.B, env.DOM, env.PRJ]) {
		await page.click(`li[data-id="${id}"] > button`);
		await page.locator(`li[data-id="${id}"] > ul > li`).first().waitFor({ timeout: T });
	}
	eq('expanding down to the team', await text(page, `li[data-id="${env.TM}"] > a`), 'Red team');

	// --- the team page ---
	await page.click(`li[data-id="${env.TM}"] > a`);
	await page.locator('#node-page').waitFor();
	eq('team page: its name', (await text(page, '#node-page h1')).replace('team', '').trim(), 'Red team');
	check('team page: alice among the people', (await text(page, `#users tr[data-id="${env.UA}"]`)).includes('Alice Anders'), 'alice missing');
	check('team page: bob among the people', await visible(page, `#users tr[data-id="${env.UB}"]`), 'bob missing');
	eq('team page: the device hostname', await text(page, '#devices td.hostname'), 'ws-042');
	eq('team page: the device owner by name', await text(page, `#devices tr[data-id] a[href="#/user/${env.UA}"]`), 'Alice Anders');
	eq('team page: the users its records named', await text(page, `#devices td.users-seen a[href="#/user/${env.UA}"]`), 'alice');
	await page.locator('#devices td.sysinfo', { hasText: 'Debian' }).waitFor({ timeout: T }).catch(() => {});
	check('team page: the latest sysinfo summary', (await text(page, '#devices td.sysinfo')).includes('Debian GNU/Linux 12 (bookworm)'), await text(page, '#devices td.sysinfo'));
	await page.locator('#node-apps .bar-row').first().waitFor();
	eq('team page: top app of the last 7 days', await text(page, '#node-apps .bar-row .bar-name'), 'firefox');
	eq('team config: a value set on the project, with its level',
		await text(page, '#config tr[data-k="activity.interval_s"] td.eff'), '30');
	check('team config: the level that set it is named',
		(await text(page, '#config tr[data-k="activity.interval_s"]')).includes('Platform'), await text(page, '#config tr[data-k="activity.interval_s"]'));
	check('team config: locked at the project, input disabled',
		await page.locator('#config tr[data-k="activity.interval_s"] input[type=number]').isDisabled(), 'enabled');
	eq('team config: a default', await text(page, '#config tr[data-k="idle.threshold_s"] td.eff'), '300');
	eq('team config: a secret shows as set', await text(page, '#config tr[data-k="s3.secret_access_key"] td.eff'), 'set');
	check("team config: the secret's value is nowhere in the page",
		!(await page.content()).includes('TOPSECRET'), 'secret found in the DOM');
	// change a value through the form
	await page.fill('#config tr[data-k="idle.threshold_s"] input', '120');
	await page.click('#config-save');
	check('team config: saved', await visible(page, '#config-saved'), await page.locator('#config-msg').textContent());
	eq('team config: the new value is effective', await text(page, '#config tr[data-k="idle.threshold_s"] td.eff'), '120');
	// an enrollment secret, shown once, then revoked
	const before = await page.locator('#secrets tr[data-id]').count();
	await page.click('#secret-create');
	check('enrollment: the new secret is shown once', (await text(page, '#secret-value')).startsWith('ale_'), 'no secret');
	await page.waitForFunction((n) => document.querySelectorAll('#secrets tr[data-id]').length === n + 1, before).catch(() => {});
	eq('enrollment: the new secret is listed', await page.locator('#secrets tr[data-id]').count(), before + 1);
	check("enrollment: the list never shows a secret's value", !(await text(page, '#secrets')).includes('ale_'), 'ale_ in the list');
	await page.locator('#secrets tr[data-id] button').last().click();
	await page.waitForFunction((n) => document.querySelectorAll('#secrets tr[data-id]').length === n, before).catch(() => {});
	eq('enrollment: revoked, gone from the list', await page.locator('#secrets tr[data-id]').count(), before);

	// --- a person's page ---
	await page.click(`#users tr[data-id="${env.UA}"] a`);
	await page.locator(`#user-page[data-id="${env.UA}"]`).waitFor();
	await page.fill('#day', env.DAY);
	await page.click('#day-show');
	await page.waitForFunction(() => document.querySelector('#act-totals dd[data-k=keys]')?.textContent === '157');
	eq('timeline totals: keys', await text(page, '#act-totals dd[data-k=keys]'), '157');
	eq('timeline totals: clicks', await text(page, '#act-totals dd[data-k=clicks]'), '21');
	eq('timeline totals: moves', await text(page, '#act-totals dd[data-k=moves]'), '1050');
	eq('timeline totals: active seconds', await text(page, '#act-totals dd[data-k=active_s]'), '65');
	eq('timeline: 24 hourly bars', await page.locator('svg.timeline rect.bar').count(), 24);
	eq('timeline: bars with activity at 10:00 and 14:00',
		(await page.$$eval('svg.timeline rect.bar', (rs) => rs.filter((r) => Number(r.dataset.value) > 0).map((r) => `${r.dataset.start.slice(11, 13)}=${r.dataset.value}`))).join(','),
		'10=60,14=5');
	eq('timeline: the 10:00 interval row',
		(await page.$$eval('#act-intervals tr:nth-child(2) td', (tds) => tds.map((td) => td.textContent))).join(' '), '10:00–11:00 150 20 1000 60 120');
	await page.locator('#user-apps .bar-row').first().waitFor();
	eq('top apps: in order, the hostile name among them',
		(await page.$$eval('#user-apps .bar-name', (e) => e.map((x) => x.textContent))).join('|'), `firefox|${env.HOSTILE}|code`);
	eq('hostile app name: no element made from it', await page.locator('#user-apps img').count(), 0);
	eq('hostile app name: no img[src=x] anywhere', await page.evaluate(() => document.querySelectorAll('img[src="x"]').length), 0);
	eq('user page: the device she owns', await text(page, '#user-devices td.hostname'), 'ws-042');
	check('screenshots: viewing is said to be logged', (await text(page, '#shots-audit-note')).includes('audit log'), 'no note');
	check('screenshots: the seeded one is listed', (await text(page, `#shots-list tr[data-id="${env.SHOT}"]`)).includes('64×48'), 'not listed');
	await page.click(`#shots-list tr[data-id="${env.SHOT}"] button.view-shot`);
	await page.locator('#shot-viewer img.shot').waitFor();
	await page.waitForFunction(() => document.querySelector('#shot-viewer img.shot')?.complete);
	eq('screenshots: the WebP image loads from a blob: URL (its width)',
		await page.$eval('#shot-viewer img.shot', (i) => `${i.src.slice(0, 5)} ${i.naturalWidth}x${i.naturalHeight}`), 'blob: 64x48');
	check('screenshots: the viewer says the view was logged', (await text(page, '#shot-viewer p')).includes('audit log'), 'no note');
	await page.screenshot({ path: path.join(OUT, 'user-page.png'), fullPage: true });

	// --- audit log page ---
	await page.click('#nav a[href="#/audit"]');
	await page.locator('#audit tr td').first().waitFor();
	check('audit page: config changes are listed', (await text(page, '#audit')).includes('config.set'), 'no config.set');

	// --- sign-out ---
	await page.click('#signout');
	check('signed out: the sign-in form', await visible(page, 'form#login'), 'no form');
	eq('signed out: the token is gone', await page.evaluate(() => sessionStorage.getItem('actlog.token')), null);
	const st = await page.evaluate(async (t) => (await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${t}` } })).status, tok);
	eq('signed out: the old token is refused', st, 401);

	// --- the manager of the team ---
	async function signIn(email, pw) {
		await page.fill('#email', email);
		await page.fill('#password', pw);
		await page.click('form#login button[type=submit]');
		await page.locator('#grants').waitFor();
	}
	await signIn('mona@example.com', 'password-mona');
	check('manager: grants show the manager role', (await text(page, '#grants')).includes('manager'), 'no manager');
	eq('manager: the tree shows the business above her team', await text(page, `#org-tree li[data-id="${env.B}"] > a`), 'Acme');
	eq('manager: and nothing else at the top', await page.locator('#org-tree > li').count(), 1);
	for (const id of [env.B, env.DOM, env.PRJ]) {
		await page.click(`li[data-id="${id}"] > button`);
		await page.locator(`li[data-id="${id}"] > ul > li`).first().waitFor({ timeout: T });
	}
	eq('manager: she walks down to her team', await text(page, `#org-tree li[data-id="${env.TM}"] > a`), 'Red team');
	eq('manager: only her team below the project', await page.locator(`li[data-id="${env.PRJ}"] > ul > li`).count(), 1);
	eq('manager: no audit link', await page.locator('#nav a[href="#/audit"]').count(), 0);
	await page.goto(`${URL0}/#/node/${env.TM}`);
	check('manager: her team page lists the people', await visible(page, `#users tr[data-id="${env.UA}"]`), 'alice missing');
	eq('manager: no config level is left out', await page.locator('#config .notice').count(), 0);
	eq('manager: her team\'s own value', await text(page, '#config tr[data-k="retention.days"] td.eff'), '90');
	eq('manager: a value set on the project above her team, merged by the server',
		await text(page, '#config tr[data-k="activity.interval_s"] td.eff'), '30');
	// the project's name is not hers to read: its id names the level
	eq('manager: with the project as the level that set it, and its lock',
		(await page.$$eval('#config tr[data-k="activity.interval_s"] td', (tds) => tds.slice(2, 4).map((td) => td.textContent))).join('|'),
		`${env.PRJ}|locked at ${env.PRJ}`);
	eq('manager: the secret set on her team shows as set', await text(page, '#config tr[data-k="s3.secret_access_key"] td.eff'), 'set');
	eq('manager: a secret set nowhere', await text(page, '#config tr[data-k="s3.session_token"] td.eff'), 'not set');
	await page.goto(`${URL0}/#/audit`);
	check("manager: the audit log shows the API's refusal", (await text(page, '#view .error')).length > 0, 'no error');
	await page.click('#signout');
	await page.locator('form#login').waitFor();

	// --- the employee ---
	await page.fill('#email', 'alice@example.com');
	await page.fill('#password', 'password-alice');
	await page.click('form#login button[type=submit]');
	await page.locator('#grants').waitFor();
	check('employee: grants show the employee role', (await text(page, '#grants')).includes('employee'), 'no employee');
	eq('employee: no organisation tree', await page.locator('#org-tree').count(), 0);
	eq('employee: no audit link', await page.locator('#nav a[href="#/audit"]').count(), 0);
	await page.goto(`${URL0}/#/user/${env.UB}`);
	eq("employee: a colleague's page shows the API's refusal",
		await text(page, '#user-page .error'), `This person cannot be shown: ${env.ALICE_BOB_ERR}`);
	check("employee: nothing of the colleague shown", !(await page.content()).includes('Bob Berg'), 'Bob Berg in the page');
	await page.goto(`${URL0}/#/node/${env.TM}`);
	check('employee: the team page is refused plainly', (await text(page, '#node-page .error')).startsWith('This node cannot be shown:'), 'no error');
	await page.goto(`${URL0}/#/user/${env.UA}`);
	await page.locator(`#user-page[data-id="${env.UA}"]`).waitFor();
	await page.fill('#day', env.DAY);
	await page.click('#day-show');
	await page.waitForFunction(() => document.querySelector('#act-totals dd[data-k=keys]')?.textContent === '157').catch(() => {});
	eq('employee: her own totals', await text(page, '#act-totals dd[data-k=keys]'), '157');
	eq('employee: her own device', await text(page, '#user-devices td.hostname'), 'ws-042');
	check('employee: screenshots explained, not broken', (await text(page, '#shots')).includes('not available to you'), await text(page, '#shots'));
	await page.setInputFiles('#avatar-file', path.join(OUT, 'shot.png'));
	await page.waitForFunction(() => document.querySelector('#avatar')?.complete && !document.querySelector('#avatar').hidden).catch(() => {});
	eq('employee: uploads her own picture, then it shows',
		await page.$eval('#avatar', (i) => `${i.hidden} ${i.naturalWidth}x${i.naturalHeight}`), 'false 64x48');
	await page.screenshot({ path: path.join(OUT, 'employee-page.png'), fullPage: true });

	eq('no dialog opened (no script ran from data)', dialogs.join('|'), '');
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
