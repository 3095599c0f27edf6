// tests/web/admin.mjs - drive the dashboard's administration pages (roles,
// grants, access review, devices and enrollment, config provenance) in a
// real headless Chromium (playwright-core, the Debian chromium package)
// against the server tests/integration/test_web_admin.sh started and
// seeded. What a page shows is compared with what the API answers (fetched
// here with the signed-in user's token). Every assertion goes into
// $WEB_OUT/results.json as {name, ok, detail}. Exit status 0 when the run
// completed.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, T, URL0, check, env, eq, launch, save, text, visible } from './lib.mjs';

// RFC 4180: rows of fields (quoted fields may hold commas, quotes, CR, LF).
function parseCsv(s) {
	const rows = [];
	let row = [], f = '', q = false;
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (q) {
			if (c === '"' && s[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
		} else if (c === '"') q = true;
		else if (c === ',') { row.push(f); f = ''; }
		else if (c === '\r' && s[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; }
		else f += c;
	}
	if (f !== '' || row.length) { row.push(f); rows.push(row); }
	return rows;
}

// curl, as a machine's administrator would run it: status and JSON body.
function curl(method, url, body, tok) {
	const args = ['-s', '-w', '\n%{http_code}', '-X', method, '--max-time', '30'];
	if (tok) args.push('-H', `Authorization: Bearer ${tok}`);
	if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
	const out = execFileSync('curl', [...args, url], { encoding: 'utf8' });
	const i = out.lastIndexOf('\n');
	let json = null;
	try { json = JSON.parse(out.slice(0, i)); } catch (e) { /* not JSON */ }
	return { status: Number(out.slice(i + 1)), json };
}

const browser = await launch();
let exit = 0;
try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
	await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL0 });
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	const dialogs = [];
	const consoleErrors = [];
	const dialogTypes = [];
	page.on('dialog', (d) => { dialogs.push(d.message()); dialogTypes.push(d.type()); d.accept().catch(() => {}); });
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
	// the API as the signed-in user (the page's own token)
	const apiGet = (p) => page.evaluate(async (u) => {
		const r = await fetch(`/api/v1${u}`, { headers: { Authorization: `Bearer ${sessionStorage.getItem('actlog.token')}` } });
		return { status: r.status, json: await r.json().catch(() => null) };
	}, p);
	async function signIn(email, pw) {
		await page.goto(`${URL0}/#/`);
		if (await page.locator('#signout').count()) {
			await page.click('#signout');
			await page.locator('form#login').waitFor();
		}
		await page.fill('#email', email);
		await page.fill('#password', pw);
		await page.click('form#login button[type=submit]');
		await page.locator('#grants').waitFor();
	}
	// open a page and wait for sel in it: the view is emptied first so that
	// sel is not found in the page before; the same address is reloaded
	async function go(hash, sel) {
		const target = `${URL0}/${hash}`;
		await page.evaluate(() => document.getElementById('view')?.replaceChildren());
		if (page.url() === target) await page.reload();
		else await page.goto(target);
		await page.locator(sel).first().waitFor();
	}

	// --- bea, the business's administrator: roles ---
	await signIn('bea@example.com', 'password-bea');
	check('bea: a Roles link in the header', await page.locator('#nav a[href="#/roles"]').count() === 1, 'no link');
	await page.click('#nav a[href="#/roles"]');
	await page.locator('#roles tr[data-name]').first().waitFor();
	const roles = (await apiGet('/roles')).json.roles;
	eq('roles: every role the API lists, in its order',
		(await page.$$eval('#roles tr[data-name]', (rs) => rs.map((r) => r.dataset.name))).join(','), roles.map((r) => r.name).join(','));
	eq('roles: built-in admin with its permissions',
		await page.$eval('#roles tr[data-name="admin"] td.perms', (td) => td.dataset.value), roles.find((r) => r.name === 'admin').permissions.join(','));
	eq('roles: the global business-admin role', await text(page, '#roles tr[data-name="business-admin"] td.scope'), 'global');
	eq('roles: built-in roles cannot be deleted', await page.locator('#roles tr[data-builtin="true"] button.delete-role').count(), 0);
	eq('roles: nor a global role by a business admin', await page.locator('#roles tr[data-name="business-admin"] button.delete-role').count(), 0);
	eq('roles: she may create roles for her business only (no global choice)',
		(await page.$$eval('#role-business option', (os) => os.map((o) => `${o.value}=${o.textContent}`))).join('|'), `${env.B}=business Acme`);
	await page.fill('#role-name', 'acme-support');
	for (const p of ['user.read', 'device.read', 'device.write']) await page.check(`#role-perms input[value="${p}"]`);
	await page.click('#role-create');
	check('roles: created', await visible(page, '#role-created'), await page.locator('#role-msg').textContent());
	await page.locator('#roles tr[data-name="acme-support"]').waitFor();
	eq('roles: the new role, scoped to her business', await text(page, '#roles tr[data-name="acme-support"] td.scope'), 'business Acme');
	const made = (await apiGet('/roles')).json.roles.find((r) => r.name === 'acme-support');
	eq('roles: its permissions as the API answers them',
		await page.$eval('#roles tr[data-name="acme-support"] td.perms', (td) => td.dataset.value), made && made.permissions.join(','));
	eq('roles: the API has it for the business', made && made.business_id, env.B);
	await page.screenshot({ path: path.join(OUT, 'roles.png'), fullPage: true });
	check('roles: she may delete her business\'s role', await page.locator('#roles tr[data-name="acme-support"] button.delete-role').count() === 1, 'no button');
	// a role made and deleted again (the page asks first)
	await page.fill('#role-name', 'acme-temp');
	await page.check('#role-perms input[value="self.read"]');
	await page.click('#role-create');
	await page.locator('#roles tr[data-name="acme-temp"] button.delete-role').waitFor();
	const nd = dialogs.length;
	await page.click('#roles tr[data-name="acme-temp"] button.delete-role');
	await page.locator('#roles-msg p.ok').waitFor();
	await page.waitForFunction(() => !document.querySelector('#roles tr[data-name="acme-temp"]')).catch(() => {});
	eq('roles: deleting asks first', dialogs.slice(nd).join('|'), "Delete the role 'acme-temp'? Its grants stop carrying any permission.");
	eq('roles: deleted from the page', await page.locator('#roles tr[data-name="acme-temp"]').count(), 0);
	eq('roles: the API no longer lists it', (await apiGet('/roles')).json.roles.some((r) => r.name === 'acme-temp'), false);
	// a name taken: the API's refusal shown
	await page.fill('#role-name', 'manager');
	await page.check('#role-perms input[value="user.read"]');
	await page.click('#role-create');
	check('roles: a built-in name is refused with the API\'s reason', (await text(page, '#role-msg .error')).startsWith('Not created:'), await page.locator('#role-msg').textContent());
	await page.fill('#role-name', '');
	await page.uncheck('#role-perms input[value="user.read"]');

	// --- grants ---
	await go(`#/node/${env.TM}`, '#node-page p.admin-links');
	await page.click(`#node-page a[href="#/grants/${env.TM}"]`);
	await page.locator('#grant-user').waitFor();
	await page.selectOption('#grant-user', env.UB);
	await page.locator('#grants-page #user-grants tr[data-role="employee"]').waitFor();
	eq('grants: bob\'s employee grant on his team', await page.$eval('#user-grants tr[data-role="employee"]', (r) => r.dataset.node), env.TM);
	await page.selectOption('#grant-role', 'acme-support');
	await page.selectOption('#grant-node', env.TM);
	await page.click('#grant-submit');
	check('grants: acme-support granted', await visible(page, '#grant-made'), await page.locator('#grant-msg').textContent());
	await page.locator('#user-grants tr[data-role="acme-support"]').waitFor();
	eq('grants: listed with bea as its creator', await text(page, '#user-grants tr[data-role="acme-support"] td.by'), 'bea');
	const bobGrants = (await apiGet(`/grants?user_id=${env.UB}`)).json.grants;
	eq('grants: the page lists the API\'s grants of bob',
		(await page.$$eval('#user-grants tr[data-role]', (rs) => rs.map((r) => `${r.dataset.role}@${r.dataset.node}`))).join(','),
		bobGrants.map((g) => `${g.role}@${g.node_id}`).join(','));
	// beyond her rights: admin holds store.admin, which she lacks
	await page.selectOption('#grant-role', 'admin');
	await page.click('#grant-submit');
	eq('grants: a grant beyond her rights shows what is missing', await text(page, '#grant-msg .error p.missing'), 'missing: store.admin');
	eq('grants: ... and the API\'s reason', await text(page, '#grant-msg .error p.reason'), `Not granted: ${env.GRANT_REFUSAL}`);
	eq('grants: the refused role is not listed', await page.locator('#user-grants tr[data-role="admin"]').count(), 0);

	// from the project's grants page: a grant on the other team, revoked
	// again (the page asks first)
	await go(`#/grants/${env.PRJ}/${env.UB}`, '#user-grants tr[data-role]');
	eq('grants: the project\'s page offers the nodes below it',
		(await page.$$eval('#grant-node option', (os) => os.map((o) => o.value))).sort().join(','), [env.PRJ, env.TM, env.TM2].sort().join(','));
	await page.selectOption('#grant-role', 'acme-support');
	await page.selectOption('#grant-node', env.TM2);
	await page.click('#grant-submit');
	const other = `#user-grants tr[data-role="acme-support"][data-node="${env.TM2}"]`;
	await page.locator(`${other} button.revoke`).waitFor();
	const nr = dialogs.length;
	await page.click(`${other} button.revoke`);
	await page.locator('#grant-revoked').waitFor();
	await page.waitForFunction((sel) => !document.querySelector(sel), other).catch(() => {});
	eq('grants: revoking asks first', dialogs.slice(nr).join('|'), "Revoke the role 'acme-support' on Blue team?");
	eq('grants: revoked, gone from the list', await page.locator(other).count(), 0);
	eq('grants: the API agrees', (await apiGet(`/grants?user_id=${env.UB}`)).json.grants.filter((g) => g.node_id === env.TM2).length, 0);

	// --- access review of the business ---
	await go(`#/review/${env.B}`, '#review tr[data-user]');
	const rev = (await apiGet(`/nodes/${env.B}/access-review`)).json;
	eq('review: as many rows as the API', await page.$eval('#review-total', (e) => Number(e.dataset.value)), rev.rows.length);
	const key = (r) => `${r.user_id}|${r.role}|${r.node_id}`;
	const pageRows = await page.$$eval('#review tr[data-user]', (rs) => rs.map((r) => `${r.dataset.user}|${r.dataset.role}|${r.dataset.node}`));
	eq('review: the same grants as the API', pageRows.slice().sort().join(','), rev.rows.map(key).sort().join(','));
	const mine = `#review tr[data-user="${env.UB}"][data-role="acme-support"][data-node="${env.TM}"]`;
	eq('review: the grant made on the page, with its creator', await page.$eval(mine, (r) => r.dataset.creator), 'bea');
	check('review: its row names the node and the grantee',
		/Bob Berg.*acme-support.*Acme\/Engineering\/Platform\/Red team.*bea/.test(await text(page, mine)), await text(page, mine));
	const bobRow = rev.rows.find((r) => r.user_id === env.UB && r.role === 'acme-support');
	check('review: the grant\'s date as the API answers it', (await text(page, `${mine} td[data-key=created]`)) === bobRow.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), bobRow.created_at);
	eq('review: bea\'s last sign-in (she signed in) is shown', (await text(page, `#review tr[data-user="${env.UBEA}"] td[data-key=signin]`)) !== 'never', true);
	eq('review: bob never signed in', await text(page, `#review tr[data-user="${env.UB}"][data-role="employee"] td[data-key=signin]`), 'never');
	eq('review: a name that is markup shows as text', await text(page, `#review tr[data-user="${env.UC}"] td[data-key=grantee] a`), env.HOSTILE);
	eq('review: no element made from it', await page.evaluate(() => document.querySelectorAll('img[src="x"]').length), 0);
	await page.fill('#review-filter', 'acme-support');
	eq('review: filtered to the role', await page.$eval('#review-count', (e) => Number(e.dataset.value)), 1);
	await page.fill('#review-filter', '');
	await page.click('#review th[data-key=role] button');
	const sorted = await page.$$eval('#review tr[data-user]', (rs) => rs.map((r) => r.dataset.role));
	eq('review: sorted by role', sorted.join(','), sorted.slice().sort((a, b) => a.localeCompare(b)).join(','));
	await page.screenshot({ path: path.join(OUT, 'review.png'), fullPage: true });
	const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#review-csv')]);
	eq('review: the download\'s file name', dl.suggestedFilename(), `access-review-${env.B}.csv`);
	const csv = parseCsv(readFileSync(await dl.path(), 'utf8'));
	eq('review: the CSV header', csv[0].join(','), 'user_id,login,name,role,node_id,node_path,node_name,created_by_id,created_by_login,created_at,last_sign_in,disabled');
	const rev2 = (await apiGet(`/nodes/${env.B}/access-review`)).json;
	eq('review: the CSV holds the JSON route\'s rows, in order',
		csv.slice(1).map((f) => `${f[0]}|${f[3]}|${f[4]}|${f[8]}|${f[9]}`).join(','),
		rev2.rows.map((r) => `${r.user_id}|${r.role}|${r.node_id}|${r.created_by ? r.created_by.login : ''}|${r.created_at || ''}`).join(','));

	// --- devices and enrollment of the red team ---
	await go(`#/devices/${env.TM}`, '#device-list tr[data-id]');
	eq('devices: the seeded device', await text(page, `#device-list tr[data-id="${env.DEV1}"] td.hostname`), 'ws-042');
	eq('devices: its owner', await page.$eval(`#device-list tr[data-id="${env.DEV1}"] select.owner`, (s) => s.value), env.UA);
	eq('devices: confirmed', await text(page, `#device-list tr[data-id="${env.DEV1}"] td.status`), 'confirmed');
	const d1 = (await apiGet(`/devices/${env.DEV1}`)).json;
	eq('devices: last seen as the API answers it', await text(page, `#device-list tr[data-id="${env.DEV1}"] td.seen`), d1.last_seen.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
	await page.click('#enroll-create');
	const secret = await text(page, '#enroll-secret');
	check('enrollment: the new secret is shown', secret.startsWith('ale_'), secret);
	eq('enrollment: with the command line to use it', await text(page, '#enroll-cmd'), `sudo actlogd enroll --server ${URL0} --secret ${secret}`);
	await page.click('#enroll-copy');
	await page.locator('#enroll-copied', { hasText: 'copied' }).waitFor().catch(() => {});
	eq('enrollment: copied to the clipboard', await page.evaluate(() => navigator.clipboard.readText()), secret);
	await page.locator('#enroll-secrets tr[data-id]').first().waitFor();
	eq('enrollment: the list names who made the secret', await text(page, '#enroll-secrets tr[data-id]:last-child td.by'), 'Bea Boss');
	check('enrollment: the list never shows the secret', !(await text(page, '#enroll-secrets')).includes('ale_'), 'ale_ listed');
	// two machines enroll with it: a new one, and one the team knows (no token: pending)
	const e2 = curl('POST', `${URL0}/api/v1/enroll`, { secret, host_id: 'webhost2', hostname: 'ws-043', agent_version: '0.1.0' });
	eq('enrollment: a new machine enrolls with curl', `${e2.status} ${e2.json && e2.json.pending}`, '201 false');
	const e3 = curl('POST', `${URL0}/api/v1/enroll`, { secret, host_id: 'webhost1', hostname: 'ws-042-again', agent_version: '0.1.0' });
	eq('enrollment: a known machine without its token is pending', `${e3.status} ${e3.json && e3.json.pending}`, '201 true');
	const pend = e3.json.device_id;
	writeFileSync(path.join(OUT, 'pending-device'), pend);
	eq('enrollment: the pending device\'s token is refused', curl('GET', `${URL0}/api/v1/agent/config`, undefined, e3.json.device_token).status, 403);
	await page.click('#devices-refresh');
	await page.locator(`#device-list tr[data-id="${pend}"]`).waitFor();
	eq('devices: the pending device', await text(page, `#device-list tr[data-id="${pend}"] td.status`), 'pending');
	eq('devices: the new machine', await text(page, `#device-list tr[data-id="${e2.json.device_id}"] td.status`), 'confirmed');
	const listed = (await apiGet(`/devices?node_id=${env.TM}`)).json.devices;
	eq('devices: the API\'s devices of the team',
		(await page.$$eval('#device-list tr[data-id]', (rs) => rs.map((r) => r.dataset.id))).sort().join(','), listed.map((d) => d.id).sort().join(','));
	await page.screenshot({ path: path.join(OUT, 'devices.png'), fullPage: true });
	await page.click(`#device-list tr[data-id="${pend}"] button.confirm`);
	await page.locator(`#device-msg p.ok[data-device="${pend}"][data-status="confirmed"]`).waitFor();
	await page.locator(`#device-list tr[data-id="${pend}"] td.status`, { hasText: 'confirmed' }).waitFor();
	eq('devices: confirmed on the page, the API agrees', (await apiGet(`/devices/${pend}`)).json.pending, false);
	eq('devices: the confirmed device\'s token now works', curl('GET', `${URL0}/api/v1/agent/config`, undefined, e3.json.device_token).status, 200);
	const before = dialogs.length;
	await page.click(`#device-list tr[data-id="${pend}"] button.revoke`);
	await page.locator(`#device-list tr[data-id="${pend}"] td.status`, { hasText: 'revoked' }).waitFor();
	check('devices: revoking asks first', dialogs.length === before + 1 && dialogs[before].includes('Revoke ws-042-again'), dialogs.slice(before).join('|'));
	const pv = (await apiGet(`/devices/${pend}`)).json;
	eq('devices: revoked on the page, the API agrees', `${pv.revoked} ${pv.pending}`, 'true false');
	eq('devices: the revoked device\'s token is refused', curl('GET', `${URL0}/api/v1/agent/config`, undefined, e3.json.device_token).status, 401);
	eq('devices: a revoked device offers no action', await page.locator(`#device-list tr[data-id="${pend}"] button`).count(), 0);
	await page.selectOption(`#device-list tr[data-id="${e2.json.device_id}"] select.owner`, env.UB);
	await page.locator(`#device-msg p.ok[data-device="${e2.json.device_id}"]`).waitFor();
	eq('devices: the owner changed on the page, the API agrees', (await apiGet(`/devices/${e2.json.device_id}`)).json.owner_id, env.UB);
	await go(`#/devices/${env.TM}`, '#device-list tr[data-id]');
	eq('enrollment: the secret is shown only once', await page.locator('#enroll-secret').count(), 0);

	// the business's devices: every team's, no secrets (they belong to a team)
	await go(`#/devices/${env.B}`, '#device-list tr[data-id]');
	const bizDevices = (await apiGet(`/devices?node_id=${env.B}`)).json.devices;
	eq('devices: the business lists the API\'s devices',
		(await page.$$eval('#device-list tr[data-id]', (rs) => rs.map((r) => `${r.dataset.id}=${r.querySelector('td.status').dataset.value}`))).sort().join(','),
		bizDevices.map((d) => `${d.id}=${d.revoked ? 'revoked' : d.pending ? 'pending' : 'confirmed'}`).sort().join(','));
	eq('devices: no enrollment secret on a business', await page.locator('#enroll-create').count(), 0);

	// --- config provenance of the team, from its config form ---
	await go(`#/node/${env.TM}`, `#config a[href="#/provenance/${env.TM}"]`);
	await page.click(`#config a[href="#/provenance/${env.TM}"]`);
	await page.locator('#provenance tr[data-k]').first().waitFor();
	const eff = (await apiGet(`/nodes/${env.TM}/config/effective`)).json;
	const srcOf = (k) => page.$eval(`#provenance tr[data-k="${k}"] td.src`, (td) => `${td.dataset.source}=${td.textContent}`);
	eq('provenance: retention.days set by the business', await srcOf('retention.days'), `${env.B}=Acme`);
	eq('provenance: activity.interval_s set by the project', await srcOf('activity.interval_s'), `${env.PRJ}=Platform`);
	eq('provenance: idle.threshold_s set by the team', await srcOf('idle.threshold_s'), `${env.TM}=Red team`);
	eq('provenance: sysinfo.interval_s a default', await srcOf('sysinfo.interval_s'), 'default=default');
	eq('provenance: every source as the API answers',
		(await page.$$eval('#provenance tr[data-k]', (rs) => rs.map((r) => `${r.dataset.k}=${r.querySelector('td.src').dataset.source}`))).join(','),
		Object.keys(eff.values).concat(Object.keys(eff.source).filter((k) => !(k in eff.values))).map((k) => `${k}=${eff.source[k] || ''}`).join(','));
	eq('provenance: every value as the API answers',
		(await page.$$eval('#provenance tr[data-k] td.eff', (tds) => tds.filter((t) => t.dataset.value).map((t) => t.dataset.value))).join(','),
		Object.values(eff.values).map((v) => JSON.stringify(v)).join(','));
	eq('provenance: the lock in the business\'s column', await page.locator(`#provenance tr[data-k="retention.days"] td.level.lock[data-level="${env.B}"]`).count(), 1);
	eq('provenance: marked locked there', await text(page, `#provenance tr[data-k="retention.days"] td.level.lock`), '● locked');
	eq('provenance: the levels along the path',
		(await page.$$eval('#provenance th.level', (ths) => ths.map((t) => t.dataset.level))).join(','), ['default', env.B, env.DOM, env.PRJ, env.TM].join(','));
	await page.screenshot({ path: path.join(OUT, 'provenance.png'), fullPage: true });
	await go(`#/provenance/${env.UA}`, '#provenance tr[data-k]');
	eq('provenance: alice\'s own value comes from her user level', await srcOf('idle.threshold_s'), `user:${env.UA}=Alice Anders`);
	eq('provenance: her effective idle.threshold_s', await text(page, '#provenance tr[data-k="idle.threshold_s"] td.eff'), '100');
	eq('provenance: consistent with the API for alice',
		await text(page, '#provenance tr[data-k="idle.threshold_s"] td.eff'), String((await apiGet(`/users/${env.UA}/config/effective`)).json.values['idle.threshold_s']));
	await go('#/roles', '#roles tr[data-name="acme-support"]');

	// --- mona, the red team's manager: no actions, the API's refusals ---
	await signIn('mona@example.com', 'password-mona');
	await go('#/roles', '#roles tr[data-name]');
	eq('manager: no role form', await page.locator('#role-form').count(), 0);
	check('manager: told what creating roles needs', await visible(page, '#roles-readonly'), 'no note');
	eq('manager: no role to delete', await page.locator('#roles button.delete-role').count(), 0);
	await go(`#/grants/${env.TM}/${env.UB}`, '#user-grants tr[data-role]');
	check('manager: grants listed, none to make', await visible(page, '#grant-none'), 'no note');
	eq('manager: no grant form', await page.locator('#grant-submit').count(), 0);
	eq('manager: nothing to revoke', await page.locator('#user-grants button.revoke').count(), 0);
	await go(`#/review/${env.B}`, '#review-page .error');
	eq('manager: the business\'s review shows the API\'s 403', await text(page, '#review-page .error'), `No access review: ${env.MGR_REVIEW_ERR}`);
	await go(`#/review/${env.TM}`, '#review tr[data-user]');
	const monaRev = (await apiGet(`/nodes/${env.TM}/access-review`)).json;
	eq('manager: her team\'s review, the API\'s rows', await page.$eval('#review-total', (e) => Number(e.dataset.value)), monaRev.rows.length);
	eq('manager: only her team\'s grants',
		[...new Set(await page.$$eval('#review tr[data-user]', (rs) => rs.map((r) => r.dataset.node)))].join(','), env.TM);
	await go(`#/provenance/${env.B}`, '#provenance-page .error');
	eq('manager: the business\'s provenance shows the API\'s 403', await text(page, '#provenance-page .error'), `No config to show: ${env.MGR_CONFIG_ERR}`);
	await go(`#/devices/${env.TM2}`, '#devices-page .error');
	check('manager: another team\'s devices are refused', (await text(page, '#devices-page .error')).startsWith('This node cannot be shown:'), 'no error');

	// --- alice, an employee: only herself ---
	await signIn('alice@example.com', 'password-alice');
	eq('employee: no Roles link', await page.locator('#nav a[href="#/roles"]').count(), 0);
	await go(`#/review/${env.TM}`, '#review-page .error');
	eq('employee: her team\'s review shows the API\'s 403', await text(page, '#review-page .error'), `No access review: ${env.EMP_REVIEW_ERR}`);
	await go(`#/provenance/${env.UA}`, '#provenance tr[data-k]');
	eq('employee: her own config provenance', await text(page, '#provenance tr[data-k="idle.threshold_s"] td.eff'), '100');
	await go(`#/provenance/${env.UB}`, '#provenance-page .error');
	check('employee: a colleague\'s config is refused', (await text(page, '#provenance-page .error')).startsWith('No config to show:'), 'no error');

	eq('every dialog was a confirmation the pages asked (no script ran from data)', dialogTypes.filter((t) => t !== 'confirm').join('|'), '');
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
