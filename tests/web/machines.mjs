// tests/web/machines.mjs - the dashboard's machines list and page, personal
// API tokens page and report downloads in a real headless Chromium
// (playwright-core, the Debian chromium package) against the server
// tests/integration/test_web_machines.sh started and seeded. What the page
// shows is compared with what the API answers (fetched here with the same
// token); downloads with what curl gets. Every assertion goes into
// $WEB_OUT/results.json as {name, ok, detail}; the shell test prints them.
// Exit status 0 when the run completed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save, text } from './lib.mjs';

async function attr(page, sel, name) {
	const l = page.locator(sel).first();
	await l.waitFor({ timeout: T });
	return l.getAttribute(name);
}
// curl, as a user would: status and body bytes
function curl(tok, url) {
	const out = path.join(OUT, 'curl.out'), hdr = path.join(OUT, 'curl.hdr');
	const st = execFileSync('curl', ['-s', '-D', hdr, '-o', out, '-w', '%{http_code}', '--max-time', '30', '-H', `Authorization: Bearer ${tok}`, url]).toString();
	const cd = readFileSync(hdr).toString().match(/^content-disposition:.*filename="([^"]*)"/im);
	return { status: Number(st), body: readFileSync(out), filename: cd ? cd[1] : null };
}
async function apiGet(tok, p) {
	const r = await fetch(`${URL0}/api/v1${p}`, { headers: { Authorization: `Bearer ${tok}` } });
	if (!r.ok) throw new Error(`GET ${p}: ${r.status}`);
	return r.json();
}
const rootFs = (si) => si.filesystems.find((f) => f.mount === '/');

const browser = await launch();
let exit = 0;
try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, timezoneId: 'UTC' });
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	const confirms = [], others = [], consoleErrors = [];
	page.on('dialog', (d) => {
		if (d.type() === 'confirm') { confirms.push(d.message()); d.accept().catch(() => {}); }
		else { others.push(d.message()); d.dismiss().catch(() => {}); }
	});
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

	async function signIn(email, pw) {
		await page.goto(`${URL0}/`);
		await page.fill('#email', email);
		await page.fill('#password', pw);
		await page.click('form#login button[type=submit]');
		await page.locator('#grants').waitFor();
		return page.evaluate(() => sessionStorage.getItem('actlog.token'));
	}
	async function signOut() {
		await page.click('#signout');
		await page.locator('form#login').waitFor();
	}
	// the list of machines, once every row's sysinfo cells are filled
	async function machinesList() {
		await page.click('#nav a[href="#/machines/root"]');
		await page.locator('#machines-page').waitFor();
		await page.waitForFunction(() => [...document.querySelectorAll('#machines tr[data-id] td.kernel')].every((td) => td.textContent !== '…'));
		return page.$$eval('#machines tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
	}

	// --- the administrator: the list ---
	const A = await signIn(env.ADMIN_EMAIL, env.ADMIN_PW);
	check('admin: signed in', A && A.startsWith('alt_'), A);
	const listed = await machinesList();
	const all = await apiGet(A, '/devices?node_id=root');
	eq('list: the machines the API lists', listed.slice().sort(), all.devices.map((d) => d.id).sort());
	for (const [id, host, owner, input] of [[env.D1, 'ws-042', 'Alice Anders', 'evdev'], [env.D2, 'ws-043', 'Bob Berg', 'bpf']]) {
		const si = await apiGet(A, `/devices/${id}/sysinfo`);
		const row = `#machines tr[data-id="${id}"]`;
		eq(`list ${host}: hostname`, await text(page, `${row} td.hostname`), host);
		await page.waitForFunction((r) => !document.querySelector(`${r} td.owner`).textContent.startsWith('u_'), row).catch(() => {});
		eq(`list ${host}: owner by name`, await text(page, `${row} td.owner`), owner);
		eq(`list ${host}: team by name`, await text(page, `${row} td.team`), 'Red team');
		eq(`list ${host}: OS`, await text(page, `${row} td.os`), si.latest.os.pretty_name);
		eq(`list ${host}: kernel = the API's latest`, await text(page, `${row} td.kernel`), si.latest.kernel.release);
		eq(`list ${host}: agent version from the newest agent record`, await text(page, `${row} td.agent-version`), si.agent.version);
		check(`list ${host}: the input source in use`, (await text(page, `${row} td.sources`)).includes(`input ${input}`), await text(page, `${row} td.sources`));
		eq(`list ${host}: root fs free = the API's avail (raw)`, Number(await attr(page, `${row} td.disk`, 'data-value')), rootFs(si.latest).avail);
		eq(`list ${host}: memory available = the API's (raw)`, Number(await attr(page, `${row} td.mem`, 'data-value')), si.latest.memory.available);
		check(`list ${host}: formatted free disk beside it`, /GiB$/.test(await text(page, `${row} td.disk`)), await text(page, `${row} td.disk`));
		check(`list ${host}: online (seen just now)`, (await text(page, `${row} td.last-seen`)).includes('online'), await text(page, `${row} td.last-seen`));
		eq(`list ${host}: state`, await text(page, `${row} td.state`), 'active');
	}
	eq('list: the kernel of ws-042 is the updated one', await text(page, `#machines tr[data-id="${env.D1}"] td.kernel`), '6.1.0-28-amd64');
	eq('list: the other team\'s machine by name', await text(page, `#machines tr[data-id="${env.D3}"] td.hostname`), 'ws-100');
	await page.screenshot({ path: path.join(OUT, 'machines.png'), fullPage: true });

	// --- one machine ---
	await page.click(`#machines tr[data-id="${env.D1}"] td.hostname a`);
	await page.locator(`#machine-page[data-id="${env.D1}"] #facts`).waitFor();
	const now = Date.now();
	const x = await apiGet(A, `/devices/${env.D1}/sysinfo?from=${new Date(now - 7 * 86400e3).toISOString()}&to=${new Date(now).toISOString()}`);
	eq('machine: kernel = the API\'s latest', await attr(page, '#facts tr[data-k="kernel"] td', 'data-value'), x.latest.kernel.release);
	eq('machine: CPU model', await text(page, '#facts tr[data-k="CPU"] td'), x.latest.cpu.model);
	eq('machine: CPU threads', Number(await attr(page, '#facts tr[data-k="CPU threads"] td', 'data-value')), x.latest.cpu.threads);
	eq('machine: memory total (raw)', Number(await attr(page, '#facts tr[data-k="memory"] td', 'data-value')), x.latest.memory.total);
	eq('machine: memory available (raw)', Number(await attr(page, '#facts tr[data-k="memory available"] td', 'data-value')), x.latest.memory.available);
	eq('machine: the agent\'s running version', await attr(page, '#facts tr[data-k="agent"] td', 'data-value'), x.agent.version);
	eq('machine: one row per file system', await page.locator('#filesystems tr[data-mount]').count(), x.latest.filesystems.length);
	for (const f of x.latest.filesystems)
		eq(`machine: ${f.mount} available (raw)`, Number(await attr(page, `#filesystems tr[data-mount="${f.mount}"] td.avail`, 'data-value')), f.avail);
	eq('charts: one free-disk line per file system', await page.$$eval('#chart-disk g.series', (gs) => gs.map((g) => g.dataset.name)), x.latest.filesystems.map((f) => f.mount));
	eq('charts: free disk of / = the history\'s avail, point by point',
		await page.$$eval('#chart-disk g.series[data-name="/"] circle', (cs) => cs.map((c) => Number(c.dataset.value))),
		x.history.map((r) => rootFs(r).avail));
	const disk = x.history.map((r) => rootFs(r).avail);
	check('charts: the seeded free disk falls', disk.length > 30 && disk.every((v, i) => !i || v < disk[i - 1]), disk.join(','));
	eq('charts: available memory, point by point',
		await page.$$eval('#chart-mem circle', (cs) => cs.map((c) => Number(c.dataset.value))), x.history.map((r) => r.memory.available));
	eq('charts: CPU usage %, point by point',
		await page.$$eval('#chart-cpu circle', (cs) => cs.map((c) => Number(c.dataset.value))), x.history.map((r) => r.cpu.usage_pct));
	eq('charts: the times of the points are the records\'',
		await page.$$eval('#chart-mem circle', (cs) => cs.map((c) => c.dataset.t)), x.history.map((r) => r.ts));
	const ch = x.history.filter((r) => r.reason === 'change');
	eq('changes: one row per change the API lists', await page.locator('#changes tr[data-what]').count(), ch.length);
	eq('changes: the kernel change, at its time', await attr(page, '#changes tr[data-what="kernel"]', 'data-ts'), ch[0] && ch[0].ts);
	eq('changes: kernel before → after',
		`${await text(page, '#changes tr[data-what="kernel"] td.before')} → ${await text(page, '#changes tr[data-what="kernel"] td.after')}`,
		'6.1.0-27-amd64 → 6.1.0-28-amd64');
	await page.screenshot({ path: path.join(OUT, 'machine.png'), fullPage: true });

	// --- revoke from the list ---
	await machinesList();
	await page.click(`#machines tr[data-id="${env.D2}"] button.revoke`);
	await page.locator(`#machines tr[data-id="${env.D2}"][data-state="revoked"]`).waitFor().catch(() => {});
	check('revoke: a confirm dialog named the machine', confirms.length === 1 && confirms[0].includes('ws-043'), confirms.join('|'));
	eq('revoke: the row says revoked', await text(page, `#machines tr[data-id="${env.D2}"] td.state`), 'revoked');
	eq('revoke: the API says revoked', (await apiGet(A, `/devices/${env.D2}`)).revoked, true);
	eq('revoke: the other machine is untouched', (await apiGet(A, `/devices/${env.D1}`)).revoked, false);

	// --- downloads: the bytes curl gets ---
	async function downloadOf(file) {
		const req = page.waitForRequest((r) => r.url().includes(`/api/v1/reports/${file}?`));
		const dl = page.waitForEvent('download');
		await page.click(`#downloads button[data-file="${file}"]`);
		const [rq, d] = await Promise.all([req, dl]);
		return { url: rq.url(), name: d.suggestedFilename(), body: readFileSync(await d.path()) };
	}
	await page.goto(`${URL0}/#/user/${env.UA}`);
	await page.locator('#downloads').waitFor();
	const today = new Date().toISOString().slice(0, 10);
	const d6 = new Date(Date.parse(`${today}T00:00:00Z`) - 6 * 86400e3).toISOString().slice(0, 10);
	const csv = await downloadOf('activity.csv');
	const q = new URL(csv.url).searchParams;
	eq('download: the last 7 days by hour, no tz for UTC',
		[q.get('user_id'), q.get('from'), q.get('to'), q.get('step'), q.get('tz')],
		[env.UA, `${d6}T00:00:00.000Z`, new Date(Date.parse(`${today}T00:00:00Z`) + 86400e3).toISOString(), '3600', null]);
	const c1 = curl(A, csv.url);
	eq('download: curl gets 200', c1.status, 200);
	check('download: activity.csv has alice\'s rows', csv.body.toString().includes(',alice,'), csv.body.toString().slice(0, 200));
	check('download: activity.csv is the same bytes as curl\'s', csv.body.equals(c1.body), `${csv.body.length} vs ${c1.body.length} bytes`);
	eq('download: saved under the name the server gives curl', csv.name, c1.filename);
	check('download: ... the report, the person and the range', csv.name.startsWith(`actlog-activity-${env.UA}-${d6}-`), csv.name);
	const apps = await downloadOf('apps.csv');
	const c2 = curl(A, apps.url);
	check('download: apps.csv is the same bytes as curl\'s', apps.body.equals(c2.body), `${apps.body.length} vs ${c2.body.length} bytes`);
	check('download: apps.csv keeps the formula guard', apps.body.toString().includes(`'=HYPERLINK`), apps.body.toString());
	await page.goto(`${URL0}/#/node/${env.TM}`);
	await page.locator('#downloads').waitFor();
	const nj = await downloadOf('apps.json');
	check('download: the team\'s apps.json is the same bytes as curl\'s', nj.body.equals(curl(A, nj.url).body), nj.url);
	eq('download: the team\'s apps.json parses, alice\'s top app first', JSON.parse(nj.body.toString()).rows[0].app, 'firefox');

	// --- personal API tokens ---
	await page.click('#nav a[href="#/me/tokens"]');
	await page.locator('#tokens-page').waitFor();
	const me = await apiGet(A, '/me');
	const held = [...new Set(me.grants.flatMap((g) => g.permissions))].sort();
	eq('tokens: the scopes offered are the permissions held', await page.$$eval('#token-form input[data-scope]', (is) => is.map((i) => i.value)), held);
	await page.fill('#token-name', 'nightly export');
	await page.check('#token-form input[data-scope="activity.read"]');
	await page.fill('#token-days', '30');
	await page.click('#token-create');
	const tv = await text(page, '#token-value');
	check('tokens: the new token is shown once', /^alp_[A-Za-z0-9_-]{43}$/.test(tv), tv);
	check('tokens: with a curl example', (await text(page, '#token-curl')).includes(`Bearer ${tv}`), await text(page, '#token-curl'));
	const m1 = curl(tv, `${URL0}/api/v1/me`);
	eq('tokens: it works with curl on /api/v1/me', `${m1.status} ${m1.status === 200 ? JSON.parse(m1.body).user.email : ''}`, `200 ${env.ADMIN_EMAIL}`);
	const live = (await apiGet(A, '/me/tokens')).tokens.find((t) => t.name === 'nightly export');
	check('tokens: the API lists it with its scope', live && live.scopes.join() === 'activity.read', JSON.stringify(live));
	const row = `#tokens tr[data-id="${live && live.id}"]`;
	eq('tokens: listed on the page with its scopes', await text(page, `${row} td.scopes`), 'activity.read');
	eq('tokens: the expiry the API gives (raw)', await attr(page, `${row} td:nth-child(4)`, 'data-value'), live.expires_at);
	check('tokens: expires in 30 days', Math.abs(Date.parse(live.expires_at) - Date.parse(live.created_at) - 30 * 86400e3) < 5000, live.expires_at);
	check('tokens: the list never shows a token', !(await text(page, '#token-list')).includes('alp_'), 'alp_ in the list');
	await page.reload();
	await page.locator(`${row} td.last-used`).waitFor();
	const lu = (await apiGet(A, '/me/tokens')).tokens.find((t) => t.id === live.id).last_used_at;
	check('tokens: the curl use is noted', lu !== null, 'never used');
	eq('tokens: last used as the API says (raw)', await attr(page, `${row} td.last-used`, 'data-value'), lu || '');
	await page.screenshot({ path: path.join(OUT, 'tokens.png'), fullPage: true });
	await page.click(`${row} button.revoke`);
	await page.locator(row).waitFor({ state: 'detached' }).catch(() => {});
	eq('tokens: revoked, gone from the page', await page.locator(row).count(), 0);
	eq('tokens: curl now gets 401', curl(tv, `${URL0}/api/v1/me`).status, 401);
	await signOut();

	// --- the manager: her team's machines only ---
	const M = await signIn('mona@example.com', 'password-mona');
	const mList = await machinesList();
	eq('manager: her team\'s two machines', mList.slice().sort(), [env.D1, env.D2].sort());
	eq('manager: as many as the API gives her', mList.length, (await apiGet(M, '/devices?node_id=root')).devices.length);
	eq('manager: the revoked one says so', await text(page, `#machines tr[data-id="${env.D2}"] td.state`), 'revoked');
	await page.goto(`${URL0}/#/machine/${env.D3}`);
	check('manager: another team\'s machine is refused', (await text(page, '#machine-page .error')).startsWith('This machine cannot be shown:'), 'no error');
	await signOut();

	// --- the employee: her own machine only ---
	const E = await signIn('alice@example.com', 'password-alice');
	const eList = await machinesList();
	eq('employee: only her own machine', eList, [env.D1]);
	eq('employee: no revoke button for her', await page.locator('#machines button.revoke').count(), 0);
	const es = await apiGet(E, `/devices/${env.D1}/sysinfo`);
	eq('employee: her machine\'s free disk (raw)', Number(await attr(page, `#machines tr[data-id="${env.D1}"] td.disk`, 'data-value')), rootFs(es.latest).avail);
	await page.goto(`${URL0}/#/machine/${env.D2}`);
	check('employee: a colleague\'s machine is refused', (await text(page, '#machine-page .error')).startsWith('This machine cannot be shown:'), 'no error');
	await page.goto(`${URL0}/#/me/tokens`);
	await page.locator('#tokens-page').waitFor();
	const eMe = await apiGet(E, '/me');
	eq('employee: token scopes limited to hers', await page.$$eval('#token-form input[data-scope]', (is) => is.map((i) => i.value)),
		[...new Set(eMe.grants.flatMap((g) => g.permissions))].sort());

	// a preferred zone this browser's Intl does not know (the server's ICU
	// may know more): times in the browser's zone, no script error
	await page.route('**/api/v1/me', async (route) => {
		const r = await route.fetch();
		const j = await r.json();
		j.user.tz = 'Mars/Olympus_Mons';
		await route.fulfill({ response: r, json: j });
	});
	await page.goto(`${URL0}/#/machine/${env.D1}`);
	await page.reload();
	await page.locator(`#machine-page[data-id="${env.D1}"], #machine-page .error, .error`).first().waitFor({ timeout: T }).catch(() => {});
	const zText = (await page.locator(`#machine-page[data-id="${env.D1}"]`).count()) ? await text(page, '#machine-page') : await text(page, '#view');
	check('employee: a preferred zone this browser does not know: her machine shown in the browser\'s zone',
		/last seen \d{4}-\d\d-\d\d \d\d:\d\d/.test(zText), zText.slice(0, 300));
	await page.unroute('**/api/v1/me');

	// where a day starts in the dashboard is where the server starts it:
	// a skipped midnight (Santiago's spring) and a repeated one (Havana's autumn)
	for (const [day, zone, want] of [['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
		['2026-11-01', 'America/Havana', '2026-11-01T04:00:00.000Z'], ['2026-10-25', 'Europe/Paris', '2026-10-24T22:00:00.000Z']]) {
		const web = await page.evaluate(async ([dd, z]) => new Date((await import('/app/js/zone.js')).dayStart(dd, z)).toISOString(), [day, zone]);
		const srv = (await apiGet(E, `/users/${env.UA}/day?date=${day}&tz=${encodeURIComponent(zone)}`)).from;
		eq(`${zone} ${day}: the dashboard's day starts where the server's does`, [web, srv], [want, want]);
	}

	eq('no other dialog opened', others.join('|'), '');
	eq('no CSP violation or script error', consoleErrors.filter((m) => /Content Security Policy|pageerror/i.test(m)).join('|'), '');
} catch (e) {
	check('the browser run', false, e.stack || e.message);
	exit = 1;
} finally {
	save();
	await browser.close();
}
process.exit(exit);
