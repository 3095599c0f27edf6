// tests/web/day.mjs - drive the dashboard's day view (web/js/day.js) in a
// real headless Chromium (playwright-core, the Debian chromium package)
// against the server tests/integration/test_web_day.sh started and seeded.
// What the page shows is compared with what the API answers (fetched here
// with the same token, for the day and time zone the page used). Every
// assertion goes into $WEB_OUT/results.json as {name, ok, detail}; the
// shell test prints them as PASS/FAIL lines. Exit status 0 when the run
// completed.
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save, text } from './lib.mjs';

const DAY = env.DAY;

function addDays(day, n) {
	const d = new Date(`${day}T00:00:00Z`);
	d.setUTCDate(d.getUTCDate() + n);
	return d.toISOString().slice(0, 10);
}
// GET an API path with token tok: [status, JSON].
async function api(tok, p) {
	const res = await fetch(`${URL0}/api/v1${p}`, { headers: { Authorization: `Bearer ${tok}` } });
	return [res.status, await res.json()];
}
async function signIn(page, email, pw) {
	await page.goto(`${URL0}/`);
	await page.fill('#email', email);
	await page.fill('#password', pw);
	await page.click('form#login button[type=submit]');
	await page.locator('#grants').waitFor();
	return page.evaluate(() => sessionStorage.getItem('actlog.token'));
}
// The day page of uid for DAY, loaded; its time zone.
async function openDay(page, uid, day = DAY) {
	await page.goto(`${URL0}/#/user/${uid}/day/${day}`);
	await page.locator(`#day-page[data-id="${uid}"][data-day="${day}"]`).waitFor();
	await page.locator('#day-axis').waitFor();
	return page.$eval('#day-page', (e) => e.dataset.tz);
}
// The API's answer for the day the page shows.
async function expected(tok, uid, tz) {
	const q = new URLSearchParams({ date: DAY });
	if (tz !== 'UTC') q.set('tz', tz);
	const [st, r] = await api(tok, `/users/${uid}/day?${q}`);
	if (st !== 200) throw new Error(`day answered ${st}`);
	return r;
}
// What the page shows, read from the data-* attributes and the text.
async function shown(page) {
	return page.evaluate(() => {
		const ds = (sel, f) => [...document.querySelectorAll(sel)].map(f);
		return {
			focus: ds('#day-axis rect.span-focus', (e) => ({ start: e.dataset.start, end: e.dataset.end, app: e.dataset.app, focus_s: Number(e.dataset.value), device_id: e.dataset.device })),
			slots: ds('#day-axis rect.slot', (e) => ({ start: e.dataset.start, active_s: Number(e.dataset.value), keys: Number(e.dataset.keys), clicks: Number(e.dataset.clicks), moves: Number(e.dataset.moves), scrolls: Number(e.dataset.scrolls), interval_s: Number(e.dataset.interval) })),
			idle: ds('#day-axis rect.span-idle', (e) => ({ start: e.dataset.start, end: e.dataset.end, device_id: e.dataset.device })),
			cpu: ds('#day-cpu tr[data-app]', (e) => ({ app: e.dataset.app, exe: e.dataset.exe, cpu_s: Number(e.querySelector('td.cpu').dataset.value) })),
			devices: ds('#day-devices tr[data-id]', (e) => ({ device_id: e.dataset.id, hostname: e.querySelector('td.hostname').textContent, first: e.querySelector('td.first').dataset.value, last: e.querySelector('td.last').dataset.value })),
			totals: Object.fromEntries(ds('#day-totals dd', (e) => [e.dataset.k, Number(e.dataset.value)])),
			markers: ds('#day-axis path.shot-marker', (e) => e.dataset.id),
			titles: ds('#day-axis rect.span-focus title', (e) => e.textContent),
		};
	});
}
// Every number on the page equals the API's answer r.
function compare(who, got, r) {
	eq(`${who}: the focus spans are the API's`, got.focus, r.focus);
	const slots = r.activity.filter((a) => a.records > 0).map((a) => ({ start: a.start, active_s: a.active_s, keys: a.keys, clicks: a.clicks, moves: a.moves, scrolls: a.scrolls, interval_s: a.interval_s }));
	eq(`${who}: the activity slots are the API's (those with records)`, got.slots, slots);
	eq(`${who}: the idle spans are the API's`, got.idle, r.idle);
	eq(`${who}: the top CPU processes are the API's`, got.cpu, r.top_cpu);
	eq(`${who}: the machines are the API's`, got.devices, r.devices.map((d) => ({ device_id: d.device_id, hostname: d.hostname, first: d.first, last: d.last })));
	const sum = (k) => r.activity.reduce((a, x) => a + x[k], 0);
	eq(`${who}: totals: keys, clicks, active seconds`, [got.totals.keys, got.totals.clicks, got.totals.active_s], [sum('keys'), sum('clicks'), sum('active_s')]);
	eq(`${who}: totals: focused seconds`, got.totals.focus_s, Math.round(r.focus.reduce((a, f) => a + f.focus_s, 0) * 1000) / 1000);
}

const browser = await launch();
let exit = 0;
try {
	const dialogs = [];
	const consoleErrors = [];
	async function newPage(timezoneId) {
		const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId });
		const page = await ctx.newPage();
		page.setDefaultTimeout(T);
		page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
		page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
		page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
		return page;
	}

	// --- the administrator, in a browser on UTC ---
	const page = await newPage('UTC');
	const tok = await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PW);
	await page.goto(`${URL0}/#/user/${env.UA}`);
	await page.locator(`#user-page[data-id="${env.UA}"]`).waitFor();
	await page.fill('#day', DAY);
	await page.click('#day-link');
	await page.locator(`#day-page[data-id="${env.UA}"][data-day="${DAY}"]`).waitFor();
	check("the person's page links to the day view of its chosen day", true);
	const tz = await openDay(page, env.UA);
	eq('a browser on UTC: the day in UTC', tz, 'UTC');
	eq('the heading names the person and the day', await text(page, '#day-page h1'), `Alice Anders — ${DAY}`);
	const r = await expected(tok, env.UA, tz);
	const got = await shown(page);
	compare('admin', got, r);
	check('the day has data to compare (spans, slots, idle, processes, two machines)',
		got.focus.length > 10 && got.slots.length > 40 && got.idle.length === 1 && got.cpu.length >= 5 && got.devices.length === 2,
		JSON.stringify([got.focus.length, got.slots.length, got.idle.length, got.cpu.length, got.devices.length]));
	eq('the machines by their sysinfo hostnames', got.devices.map((d) => d.hostname).sort(), ['lab-kiosk-2', 'ws-alice-7']);
	check("nothing of bob's on the shared machine (Blender)", !(await page.content()).includes('Blender'), 'Blender in the page');
	const f0 = r.focus[0];
	eq("a span's title: app, exact seconds, times, machine", got.titles[0], `${f0.app}: ${f0.focus_s} s focused, ${f0.start.slice(11, 19)}–${f0.end.slice(11, 19)} on ws-alice-7`);
	eq('the legend: applications by focus time', await page.$$eval('#day-legend li', (l) => l.map((x) => x.dataset.app)).then((a) => a.length > 0 && a[0]), (() => {
		const per = {};
		for (const f of r.focus) per[f.app] = (per[f.app] || 0) + f.focus_s;
		return Object.entries(per).sort((a, b) => b[1] - a[1])[0][0];
	})());
	eq('a machine links to its page', await page.$eval(`#day-devices tr[data-id="${env.D1}"] a`, (a) => a.getAttribute('href')), `#/machine/${env.D1}`);

	// screenshots: a marker on the axis and a thumbnail under it (96 px,
	// audited as screenshot.thumb); the image is loaded (an audited
	// screenshot.view) only when one is opened
	eq('one screenshot marker, the seeded one', got.markers, [env.SHOT]);
	eq('one thumbnail, the seeded one', await page.$$eval('#day-thumbs button.shot-thumb', (l) => l.map((b) => b.dataset.id)), [env.SHOT]);
	await page.waitForFunction(() => document.querySelector('#day-thumbs img.shot-thumb')?.naturalWidth > 0);
	eq('the thumbnail is decoded from a blob: URL, 96 px wide (of 640x480)',
		await page.$eval('#day-thumbs img.shot-thumb', (i) => `${i.src.slice(0, 5)} ${i.naturalWidth}x${i.naturalHeight}`), 'blob: 96x72');
	const cx = async (sel) => page.$eval(sel, (e) => { const b = e.getBoundingClientRect(); return b.left + b.width / 2; });
	const dx = Math.abs((await cx(`#day-thumbs button.shot-thumb[data-id="${env.SHOT}"]`)) - (await cx(`#day-axis path.shot-marker[data-id="${env.SHOT}"]`)));
	check('the thumbnail is under its marker (same time on the axis)', dx < 2, `${dx} px apart`);
	eq('no full image on the page before one is opened', await page.locator('#day-shot-viewer img').count(), 0);
	check('the page says thumbnails are audited as screenshot.thumb, views as screenshot.view',
		/screenshot\.thumb.*screenshot\.view/.test(await text(page, '#day-shots-note')), await text(page, '#day-shots-note'));
	const audited = async (action) => {
		const [st, a] = await api(tok, '/audit?limit=1000');
		return st === 200 ? a.entries.filter((e) => e.action === action && e.target === env.SHOT).map((e) => `${e.actor_email}:${e.result}`).join(',') : `status ${st}`;
	};
	const views = async () => {
		const [st, a] = await api(tok, '/audit?limit=1000');
		return st === 200 ? a.entries.filter((e) => e.action === 'screenshot.view').length : -1;
	};
	eq('loading the day wrote one screenshot.thumb audit entry (the thumbnail shown)', await audited('screenshot.thumb'), `${env.ADMIN_EMAIL}:ok`);
	eq('loading the day wrote no screenshot.view audit entry', await views(), 0);
	await page.screenshot({ path: path.join(OUT, 'day.png') });
	await page.click(`#day-thumbs button.shot-thumb[data-id="${env.SHOT}"]`);
	await page.locator('#day-shot-viewer img.shot').waitFor();
	await page.waitForFunction(() => document.querySelector('#day-shot-viewer img.shot')?.complete);
	eq('opening the thumbnail shows the full image (from a blob: URL)',
		await page.$eval('#day-shot-viewer img.shot', (i) => `${i.src.slice(0, 5)} ${i.naturalWidth}x${i.naturalHeight}`), 'blob: 640x480');
	check('the viewer says the view was logged', (await text(page, '#day-shot-viewer p')).includes('audit log'), 'no note');
	eq('opening it wrote one screenshot.view audit entry', await views(), 1);
	eq('and no other screenshot.thumb entry', await audited('screenshot.thumb'), `${env.ADMIN_EMAIL}:ok`);
	// a busy day: thumbnails for 48 shots spread over it, the others markers only
	const pick = await page.evaluate(async () => {
		const m = await import('/app/js/day.js');
		const shots = Array.from({ length: 130 }, (_, i) => ({ id: `s${i}` }));
		const p = m.thumbPick(shots);
		return [m.THUMBS_MAX, p.length, p[0].id, p[p.length - 1].id, new Set(p.map((x) => x.id)).size, m.thumbPick(shots.slice(0, 48)).length];
	});
	eq('at most 48 thumbnails a day, spread from the first shot to the last; 48 or fewer: all', pick, [48, 48, 's0', 's129', 48, 48]);

	// previous / next day and the date picker
	await page.click('#day-prev');
	await page.locator(`#day-page[data-day="${addDays(DAY, -1)}"]`).waitFor();
	eq('previous day: the hash names it', await page.evaluate(() => location.hash), `#/user/${env.UA}/day/${addDays(DAY, -1)}`);
	await page.locator('#day-legend li').first().waitFor();
	const hostile = '<img src=x onerror=alert(1)>';
	eq('previous day: its spans, an application with a hostile name first, as text',
		await page.$$eval('#day-legend li', (l) => l.map((x) => x.dataset.app)), [hostile, 'Firefox']);
	eq('previous day: the hostile name made no element', await page.evaluate(() => document.querySelectorAll('#day-page img, #day-page b').length), 0);
	check('previous day: the name is in the page as text', (await text(page, '#day-legend')).includes(hostile), 'not as text');
	await page.click('#day-next');
	await page.locator(`#day-page[data-day="${DAY}"]`).waitFor();
	await page.locator('#day-axis rect.span-focus').first().waitFor();
	eq('next day: back to the day, its spans again', await page.locator('#day-axis rect.span-focus').count(), r.focus.length);
	await page.fill('#day-date', addDays(DAY, 1));
	await page.dispatchEvent('#day-date', 'change');
	await page.locator(`#day-page[data-day="${addDays(DAY, 1)}"]`).waitFor();
	check('the date picker opens another day', true);
	eq('no screenshot.view written by moving between days', await views(), 1);
	await page.context().close();

	// --- the manager: her team member's day, not another team's ---
	const mp = await newPage('UTC');
	const mtok = await signIn(mp, 'mona@example.com', 'password-mona');
	const mtz = await openDay(mp, env.UA);
	compare('manager', await shown(mp), await expected(mtok, env.UA, mtz));
	await mp.goto(`${URL0}/#/user/${env.UC}/day/${DAY}`);
	eq("manager: another team's person's day shows the API's refusal",
		await text(mp, '#day-page .error'), `This day cannot be shown: ${env.MONA_CARL_ERR}`);
	eq('manager: no axis for it', await mp.locator('#day-axis').count(), 0);
	await mp.context().close();

	// --- the employee, in a browser on New York time ---
	const ep = await newPage('America/New_York');
	const etok = await signIn(ep, 'alice@example.com', 'password-alice');
	eq("employee: 'My day' in the menu", await ep.$eval('#nav a[href*="/day/"]', (a) => a.textContent), 'My day');
	const etz = await openDay(ep, env.UA);
	eq("employee: the day in her browser's zone (the API answers it)", etz, 'America/New_York');
	compare('employee', await shown(ep), await expected(etok, env.UA, etz));
	check('employee: screenshots explained, not broken', (await text(ep, '#day-shots')).length > 0, 'empty');
	await ep.goto(`${URL0}/#/user/${env.UB}/day/${DAY}`);
	eq("employee: a colleague's day shows the API's refusal",
		await text(ep, '#day-page .error'), `This day cannot be shown: ${env.ALICE_BOB_ERR}`);
	check("employee: nothing of the colleague's day", !(await ep.content()).includes('Blender'), 'Blender in the page');
	// her preferred zone, set on her page, wins over the browser's
	await ep.goto(`${URL0}/#/user/${env.UA}`);
	await ep.locator('#pref-tz-select').waitFor();
	eq('employee: no preferred zone yet', await text(ep, '#pref-tz-msg'), "not set: the browser's zone is used");
	await ep.selectOption('#pref-tz-select', 'Europe/Paris');
	await ep.click('#pref-tz-save');
	await ep.locator('#pref-tz-msg', { hasText: 'saved' }).waitFor();
	eq('employee: her zone saved on the page', await text(ep, '#pref-tz-msg'), 'saved: Europe/Paris');
	const [mst, me] = await api(etok, '/me');
	eq("employee: the API holds it (GET /me)", `${mst}:${me.user.tz}`, '200:Europe/Paris');
	const ktz = await openDay(ep, env.UA);
	eq('employee: her day now in her preferred zone', ktz, 'Europe/Paris');
	compare('employee (Paris)', await shown(ep), await expected(etok, env.UA, ktz));
	await ep.context().close();

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
