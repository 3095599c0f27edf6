// tests/web/overview.mjs - drive the dashboard's team overview and
// applications view in a real headless Chromium (playwright-core, the
// Debian chromium package) against the server
// tests/integration/test_web_overview.sh started and seeded, comparing what
// is shown with what the API answers (fetched here with the same
// arguments). WEB_MODE=main: the checks; WEB_MODE=perf: the render time of
// a 200-person overview (printed and appended to $WEB_OUT/perf-overview.txt,
// not asserted). Every assertion goes into $WEB_OUT/results.json as {name,
// ok, detail}; the shell test prints them. Exit status 0 when the run
// completed.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save } from './lib.mjs';

const MODE = env.WEB_MODE || 'main';

async function login(email, password) {
	const r = await fetch(`${URL0}/api/v1/auth/login`, {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
	});
	return (await r.json()).token;
}
async function api(tok, p) {
	const r = await fetch(`${URL0}/api/v1${p}`, { headers: { Authorization: `Bearer ${tok}` } });
	return { status: r.status, body: await r.json() };
}
const nextDay = (d) => new Date(Date.parse(`${d}T00:00:00Z`) + 86400e3).toISOString().slice(0, 10);
const fmtDuration = (sec) => { // as web/js/dom.js
	sec = Math.round(Number(sec) || 0);
	const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s2 = sec % 60;
	if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
	if (m) return `${m} min ${String(s2).padStart(2, '0')} s`;
	return `${s2} s`;
};

async function signIn(ctx, email, password) {
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	page.consoleErrors = [];
	// a missing favicon and a person without a profile picture are 404s by design
	page.on('console', (m) => {
		if (m.type() === 'error' && !/favicon\.ico|\/avatar$/.test(m.location().url || '')) page.consoleErrors.push(`${m.text()} ${m.location().url}`);
	});
	page.on('pageerror', (e) => page.consoleErrors.push(`pageerror: ${e.message}`));
	await page.goto(`${URL0}/`);
	await page.fill('#email', email);
	await page.fill('#password', password);
	await page.click('form#login button[type=submit]');
	await page.locator('#who-name').waitFor({ timeout: T });
	return page;
}

// Open the overview of node from day `from` to day `to` (inclusive) and wait
// for the table of that range (data-from: the API's echo of from).
async function openOverview(page, node, from, to, fromIso) {
	await page.goto(`${URL0}/#/overview/${node}`);
	await page.locator('#ov-from').waitFor();
	await page.locator('#overview-table, #ov-error, #ov-body .error').first().waitFor();
	await page.fill('#ov-from', from);
	await page.fill('#ov-to', to);
	await page.click('#ov-show');
	await page.locator(`#overview-table[data-from="${fromIso}"], #ov-error`).first().waitFor();
}

// What the overview table shows, row by row.
function domRows(page) {
	return page.evaluate(() => [...document.querySelectorAll('#overview-table tbody tr')].map((tr) => {
		const q = (c) => tr.querySelector(c);
		return {
			id: tr.dataset.userId,
			name: q('.ov-name a').textContent,
			href: q('.ov-name a').getAttribute('href'),
			online: q('.ov-online').dataset.value,
			active: q('.ov-active').dataset.value,
			activeText: q('.ov-active').textContent,
			pct: q('.ov-pct').dataset.value,
			pctText: q('.ov-pct').textContent,
			heat: [...tr.querySelectorAll('.ov-heat rect')].map((r) => r.dataset.value),
			heatIv: [...tr.querySelectorAll('.ov-heat rect')].map((r) => r.dataset.interval),
			heatTitles: [...tr.querySelectorAll('.ov-heat rect title')].map((t) => t.textContent),
			topApp: q('.ov-top').dataset.app,
			topVal: q('.ov-top').dataset.value,
			synthetic: q('.ov-synthetic').textContent,
		};
	}));
}

function compareRows(tag, rows, people) {
	eq(`${tag}: one row per person of the API's answer`, rows.length, people.length);
	eq(`${tag}: the same people`, rows.map((r) => r.id).sort().join(','), people.map((p) => p.user_id).sort().join(','));
	for (const p of people) {
		const r = rows.find((x) => x.id === p.user_id);
		const who = `${tag}: ${p.name}`;
		if (!r) {
			check(`${who}: shown`, false, 'no row');
			continue;
		}
		eq(`${who}: active time (raw)`, r.active, String(p.totals.active_s));
		eq(`${who}: active time (text)`, r.activeText, fmtDuration(p.totals.active_s));
		eq(`${who}: activity % (raw)`, r.pct, p.activity_pct === null ? '' : String(p.activity_pct));
		eq(`${who}: activity % (text)`, r.pctText, p.activity_pct === null ? '—' : `${p.activity_pct.toFixed(1)} %`);
		eq(`${who}: heat strip cells = active_s per step`, r.heat.join(','), p.series.active_s.join(','));
		eq(`${who}: heat strip intervals = interval_s per step`, r.heatIv.join(','), p.series.interval_s.join(','));
		const k = p.series.active_s.findIndex((v) => v > 0);
		if (k >= 0)
			check(`${who}: a cell's title has its exact seconds`, r.heatTitles[k].endsWith(`: ${p.series.active_s[k]} s active of ${p.series.interval_s[k]} s recorded`), r.heatTitles[k]);
		eq(`${who}: top application`, `${r.topApp}:${r.topVal}`, p.top_app ? `${p.top_app.app}:${p.top_app.focus_s}` : ':');
		eq(`${who}: online`, r.online, String(p.online));
		const syn = p.totals.synthetic_active_s;
		check(`${who}: synthetic share shown only when the rollups carry it`,
			syn === undefined ? r.synthetic === '—' : r.synthetic.startsWith(`${(100 * (p.totals.active_s ? syn / p.totals.active_s : 0)).toFixed(1)} %`), r.synthetic);
	}
}

const browser = await launch();
let exit = 0;
try {
	const view = { viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' };
	if (MODE === 'perf') {
		const ctx = await browser.newContext(view);
		const page = await signIn(ctx, env.ADMIN_EMAIL, env.ADMIN_PW);
		// navigation to a filled table: today's overview of 200 people
		const t0 = await page.evaluate((b) => { const t = performance.now(); location.hash = `#/overview/${b}`; return t; }, env.B);
		await page.locator('#overview-table[data-rows="200"]').waitFor({ timeout: 120000 });
		const nav = await page.evaluate((t) => performance.now() - t, t0);
		// then the 7 seeded days, three times
		const runs = [];
		await page.fill('#ov-from', env.PFROM);
		await page.fill('#ov-to', env.PTO);
		for (let i = 0; i < 3; i++) {
			await page.evaluate(() => { const t = document.querySelector('#overview-table'); if (t) t.remove(); });
			const t1 = await page.evaluate(() => { window.ovT0 = performance.now(); document.querySelector('#ov-show').click(); return window.ovT0; });
			await page.locator(`#overview-table[data-from="${env.PFROM}T00:00:00.000Z"][data-rows="200"]`).waitFor({ timeout: 120000 });
			runs.push(await page.evaluate((t) => performance.now() - t, t1));
		}
		const cells = await page.locator('#overview-table rect').count();
		const line = `overview in Chromium, 200 people: navigation to filled table (today, 144 ten-minute steps) ${nav.toFixed(0)} ms; 7 days (168 steps, ${cells} heat cells) Show to filled table ${runs.map((x) => x.toFixed(0)).join(' / ')} ms`;
		console.log(line);
		appendFileSync(path.join(OUT, 'perf-overview.txt'), `${line}\n`);
		eq('perf: 200 rows of 168 cells', cells, 200 * 168);
		check('perf: no console errors', page.consoleErrors.length === 0, page.consoleErrors.join(' | '));
		await page.screenshot({ path: path.join(OUT, 'overview-200.png') });
	} else {
		const adm = await login(env.ADMIN_EMAIL, env.ADMIN_PW);
		const DAY = env.DAY, NEXT = nextDay(DAY);
		const F = `${DAY}T00:00:00.000Z`, TO = `${NEXT}T00:00:00.000Z`;
		const ctx = await browser.newContext(view);
		const page = await signIn(ctx, env.ADMIN_EMAIL, env.ADMIN_PW);

		// --- the admin's overview of the business ---
		check('nav: the admin has a team overview link', await page.locator('#nav a[href^="#/overview/"]').count() === 1, 'no link');
		await page.goto(`${URL0}/#/node/${env.TM}`);
		await page.locator('#node-views').waitFor();
		eq('the node page links its overview', await page.locator(`#node-views a[href="#/overview/${env.TM}"]`).count(), 1);
		eq('the node page links its applications', await page.locator(`#node-views a[href="#/apps/node/${env.TM}"]`).count(), 1);
		await page.goto(`${URL0}/#/overview/${env.B}`);
		await page.locator('#overview-table, #ov-body .error').first().waitFor();
		const today = new Date().toISOString().slice(0, 10);
		eq('the range defaults to today (from)', await page.inputValue('#ov-from'), today);
		eq('the range defaults to today (to)', await page.inputValue('#ov-to'), today);
		eq('the time zone defaults to the browser\'s (no preferred one)', await page.inputValue('#ov-tz'), 'UTC');
		await openOverview(page, env.B, DAY, DAY, F);
		const ov = await api(adm, `/nodes/${env.B}/overview?from=${F}&to=${TO}&step=600`);
		eq('one day: 144 ten-minute steps', ov.body.points, 144);
		eq('the API answers the same range', ov.status, 200);
		const rows = await domRows(page);
		compareRows('admin', rows, ov.body.people);
		check('admin: both teams are in the business\'s overview', rows.some((r) => r.id === env.UC) && rows.some((r) => r.id === env.UA), rows.map((r) => r.name).join(','));
		const act = await api(adm, `/users/${env.UA}/activity?from=${F}&to=${TO}`);
		eq('alice: the active time shown equals the activity route\'s', rows.find((r) => r.id === env.UA).active, String(act.body.totals.active_s));
		const apt = await api(adm, `/apps/top?user_id=${env.UA}&from=${F}&to=${TO}&limit=1`);
		eq('alice: the top app shown equals the top-apps route\'s', rows.find((r) => r.id === env.UA).topApp, apt.body.apps[0].app);
		eq('alice is online (a record a minute ago), carl is not', `${rows.find((r) => r.id === env.UA).online},${rows.find((r) => r.id === env.UC).online}`, 'true,false');

		// sorting
		const col = (c) => page.evaluate((cl) => [...document.querySelectorAll(`#overview-table tbody .${cl}`)].map((x) => x.dataset.value), c);
		const byActive = ov.body.people.map((p) => p.totals.active_s);
		await page.click('button.sort[data-sort="active"]');
		eq('sort by active time, ascending', (await col('ov-active')).join(','), byActive.slice().sort((a, b) => a - b).join(','));
		await page.click('button.sort[data-sort="active"]');
		eq('sort by active time, descending', (await col('ov-active')).join(','), byActive.slice().sort((a, b) => b - a).join(','));
		eq('the header says how it is sorted', await page.getAttribute('#overview-table th[aria-sort="descending"] button', 'data-sort'), 'active');
		await page.click('button.sort[data-sort="pct"]');
		const pcts = ov.body.people.map((p) => p.activity_pct);
		eq('sort by activity %, ascending, people without one last', (await col('ov-pct')).join(','),
			[...pcts.filter((x) => x !== null).sort((a, b) => a - b).map(String), ...pcts.filter((x) => x === null).map(() => '')].join(','));
		await page.click('button.sort[data-sort="name"]');
		eq('sort by name', (await domRows(page)).map((r) => r.name).join(','), ov.body.people.map((p) => p.name).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)).join(','));
		await page.click('button.sort[data-sort="active"]');
		await page.click('button.sort[data-sort="active"]');
		await page.screenshot({ path: path.join(OUT, 'overview.png') });
		const alice = (await domRows(page)).find((r) => r.id === env.UA);
		eq('a person links to their day', alice.href, `#/user/${env.UA}/day/${DAY}`);
		await page.click(`#overview-table tr[data-user-id="${env.UA}"] .ov-name a`);
		await page.waitForFunction((h) => location.hash === h, `#/user/${env.UA}/day/${DAY}`);
		check('clicking a person opens their day', true);

		// --- the synthetic share, once the rollups carry synthetic_active_s (the
		// answer is rewritten here: alice 30 % synthetic, bob 10 %) ---
		const FAKE = { [env.UA]: 0.3, [env.UB]: 0.1 };
		await page.route('**/api/v1/nodes/*/overview?*', async (route) => {
			const resp = await route.fetch();
			const j = await resp.json();
			for (const p of j.people) p.totals.synthetic_active_s = Math.round((FAKE[p.user_id] || 0) * p.totals.active_s);
			await route.fulfill({ response: resp, json: j });
		});
		await openOverview(page, env.TM, DAY, DAY, F);
		const synth = (u) => page.evaluate((id) => {
			const td = document.querySelector(`#overview-table tr[data-user-id="${id}"] .ov-synthetic`);
			return `${td.textContent}|${td.classList.contains('flag')}`;
		}, u);
		const share = (u, f) => {
			const a = Number(rows.find((r) => r.id === u).active);
			return `${(100 * (Math.round(f * a) / a)).toFixed(1)} %`;
		};
		eq('synthetic: alice\'s 30 % share is flagged', await synth(env.UA), `${share(env.UA, 0.3)} ⚑|true`);
		eq('synthetic: bob\'s 10 % share is not', await synth(env.UB), `${share(env.UB, 0.1)}|false`);
		await page.unroute('**/api/v1/nodes/*/overview?*');

		// --- applications of the red team over two days ---
		await page.goto(`${URL0}/#/apps/node/${env.TM}`);
		await page.locator('#apps-from').waitFor();
		await page.fill('#apps-from', env.APPS_FROM);
		await page.fill('#apps-to', DAY);
		await page.click('#apps-show');
		const topR = await api(adm, `/apps/top?node_id=${env.TM}&from=${env.APPS_FROM}T00:00:00.000Z&to=${TO}&limit=100`);
		const total = topR.body.apps.reduce((t, a) => t + a.focus_s, 0);
		await page.locator(`#apps-total[data-value="${total}"]`).waitFor();
		await page.locator('#apps-days').waitFor();
		const shown = await page.evaluate(() => [...document.querySelectorAll('#apps-table tr[data-app]')].map((tr) => ({
			app: tr.dataset.app, focus: tr.querySelector('.app-focus').dataset.value, share: tr.querySelector('.app-share').dataset.value,
			shareText: tr.querySelector('.app-share').textContent,
		})));
		eq('apps: the listed applications, in the API\'s order', shown.map((x) => x.app).join(','), topR.body.apps.slice(0, 15).map((a) => a.app).join(','));
		for (const a of topR.body.apps.slice(0, 15)) {
			const x = shown.find((y) => y.app === a.app) || {};
			eq(`apps: ${a.app}: focus time`, x.focus, String(a.focus_s));
			eq(`apps: ${a.app}: share of the total`, x.share, String(a.focus_s / total));
			eq(`apps: ${a.app}: share (text)`, x.shareText, `${((100 * a.focus_s) / total).toFixed(1)} %`);
		}
		const days = [];
		for (let d = env.APPS_FROM; d <= DAY; d = nextDay(d)) days.push(d);
		eq('apps: a column per day of the range', await page.locator('#apps-days tr:first-child th').count(), days.length + 1);
		for (const d of days) {
			const pd = await api(adm, `/apps/top?node_id=${env.TM}&from=${d}T00:00:00.000Z&to=${nextDay(d)}T00:00:00.000Z&limit=100`);
			for (const a of topR.body.apps.slice(0, 5)) {
				const want = (pd.body.apps.find((y) => y.app === a.app) || { focus_s: 0 }).focus_s;
				const got = await page.getAttribute(`#apps-days tr[data-app="${a.app}"] td[data-day="${d}"]`, 'data-value');
				eq(`apps: ${a.app} on ${d} equals that day's top list`, got, String(want));
			}
		}
		eq('apps: five lines in the trend chart', await page.locator('svg.trend polyline').count(), Math.min(5, topR.body.apps.length));
		await page.screenshot({ path: path.join(OUT, 'apps.png') });
		await page.goto(`${URL0}/#/user/${env.UA}`);
		await page.locator(`a[href="#/apps/user/${env.UA}"]`).click();
		await page.locator('#apps-table').waitFor();
		const ua = await api(adm, `/apps/top?user_id=${env.UA}&from=${await page.inputValue('#apps-from')}T00:00:00.000Z&to=${nextDay(await page.inputValue('#apps-to'))}T00:00:00.000Z&limit=100`);
		eq('apps of a person (linked from their page, last 7 days): the first row', await page.getAttribute('#apps-table tr[data-app] .app-focus', 'data-value'), String(ua.body.apps[0].focus_s));
		check('admin: no console errors (CSP included)', page.consoleErrors.length === 0, page.consoleErrors.join(' | '));

		// --- another time zone: the API's tz when it takes it, else UTC steps over the zone's day ---
		const ctxB = await browser.newContext({ ...view, timezoneId: 'Europe/Berlin' });
		const pb = await signIn(ctxB, env.ADMIN_EMAIL, env.ADMIN_PW);
		eq('Berlin: the zone defaults to the browser\'s', await (async () => { await pb.goto(`${URL0}/#/overview/${env.TM}`); await pb.locator('#ov-tz').waitFor(); return pb.inputValue('#ov-tz'); })(), 'Europe/Berlin');
		const bf = new Date(Date.parse(F) - 3600e3).toISOString(), bt = new Date(Date.parse(TO) - 3600e3).toISOString();
		await openOverview(pb, env.TM, DAY, DAY, bf);
		const refused = await pb.locator('#ov-note').count() === 1;
		eq('Berlin: the API takes the zone (no fallback note)', refused, false);
		const bov = await api(adm, `/nodes/${env.TM}/overview?from=${bf}&to=${bt}&step=600${refused ? '' : '&tz=Europe/Berlin'}`);
		eq('Berlin: the day is the zone\'s (from 23:00 UTC the day before)', bov.status, 200);
		compareRows('Berlin', await domRows(pb), bov.body.people);
		await ctxB.close();

		// --- the manager: her team only ---
		const ctxM = await browser.newContext(view);
		const pm = await signIn(ctxM, 'mona@example.com', 'password-mona');
		eq('manager: the nav links her team\'s overview', await pm.getAttribute('#nav a[href^="#/overview/"]', 'href'), `#/overview/${env.TM}`);
		await openOverview(pm, env.TM, DAY, DAY, F);
		const mona = await login('mona@example.com', 'password-mona');
		const mov = await api(mona, `/nodes/${env.TM}/overview?from=${F}&to=${TO}&step=600`);
		compareRows('manager', await domRows(pm), mov.body.people);
		check('manager: nobody of the blue team', !(await domRows(pm)).some((r) => r.id === env.UC || r.id === env.UD), 'blue team shown');
		await pm.goto(`${URL0}/#/overview/${env.TB}`);
		const merr = await pm.locator('#ov-error').textContent();
		check('manager: another team\'s overview shows the API\'s refusal', merr.includes(env.MONA_BLUE_ERR), merr);
		eq('manager: no table of the other team', await pm.locator('#overview-table').count(), 0);
		await ctxM.close();

		// --- an employee: refused ---
		const ctxE = await browser.newContext(view);
		const pe = await signIn(ctxE, 'alice@example.com', 'password-alice');
		eq('employee: no team overview in the nav', await pe.locator('#nav a[href^="#/overview/"]').count(), 0);
		await pe.goto(`${URL0}/#/overview/${env.TM}`);
		const eerr = await pe.locator('#ov-error').textContent();
		check('employee: the team overview shows the API\'s 403 message', eerr.includes(env.ALICE_ERR), eerr);
		eq('employee: no table', await pe.locator('#overview-table').count(), 0);
		await ctxE.close();
	}
} catch (e) {
	check(`the run completed (${MODE})`, false, e.stack || e);
	exit = 1;
} finally {
	save();
	await browser.close();
}
process.exit(exit);
