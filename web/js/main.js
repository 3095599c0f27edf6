// main.js - the dashboard's entry: sign-in, the hash router, the overview
// and the audit log. Views live in node.js and user.js.
import { api, get, post, qs, setToken, setUnauthorizedHandler, token } from './api.js';
import { append, card, clear, errorBox, fmtTime, h, link } from './dom.js';
import { session, canSomewhere } from './session.js';
import { nodeView } from './node.js';
import { userView } from './user.js';
import { rolesView } from './roles.js';
import { grantsView } from './grants.js';
import { reviewView } from './review.js';
import { devicesView } from './devices.js';
import { provenanceView } from './provenance.js';
import { machinesView, machineView } from './machines.js';
import { tokensView } from './tokens.js';
import { dayView } from './day.js';
import { today } from './zone.js';
import { peopleView } from './people.js';
import { teamOverviewView } from './overview.js';
import { appsView } from './apps.js';

const view = document.getElementById('view');
let seq = 0; // the current render; late answers of older ones are dropped

function navTo(hash) {
	if (location.hash === hash) route();
	else location.hash = hash;
}

async function signOut() {
	try {
		await post('/auth/logout', undefined, { noRedirect: true });
	} catch (e) {
		/* the token is dropped either way */
	}
	setToken(null);
	session.me = null;
	navTo('#/login');
}

function renderHeader() {
	const nav = clear(document.getElementById('nav'));
	const who = clear(document.getElementById('who'));
	const me = session.me;
	if (!me) return;
	append(nav, [link('#/', 'Overview'), link(`#/user/${me.user.id}`, 'My activity')]);
	nav.append(link(`#/user/${me.user.id}/day/${today()}`, 'My day'));
	if (me.team) nav.append(link(`#/node/${me.team.id}`, 'My team'));
	const ov = me.grants.find((g) => g.permissions.includes('activity.read'));
	if (ov) nav.append(link(`#/overview/${ov.node_id}`, 'Team overview'));
	if (canSomewhere('audit.read')) nav.append(link('#/audit', 'Audit log'));
	if (canSomewhere('node.read')) nav.append(link('#/roles', 'Roles'));
	append(nav, [link('#/machines/root', 'Machines'), link('#/me/tokens', 'API tokens')]);
	const uw = me.grants.find((g) => g.permissions.includes('user.write'));
	if (uw) nav.append(link(`#/people/${uw.node_id}`, 'People'));
	append(who, [
		h('span', { id: 'who-name' }, me.user.name || me.user.email),
		h('button', { id: 'signout', type: 'button', onclick: signOut }, 'Sign out'),
	]);
}

function loginView() {
	const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
	const pw = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
	const msg = h('div', { id: 'login-msg' });
	const form = h('form', { class: 'login', id: 'login' },
		h('h1', {}, 'Sign in to actlog'),
		h('label', {}, 'Email', email),
		h('label', {}, 'Password', pw),
		msg,
		h('button', { class: 'primary', type: 'submit' }, 'Sign in'));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clear(msg);
		try {
			const r = await post('/auth/login', { email: email.value, password: pw.value });
			setToken(r.token);
			pw.value = '';
			session.me = null;
			navTo('#/');
		} catch (e) {
			msg.append(errorBox(e));
		}
	});
	return form;
}

// The organisation tree from root, children loaded when a node is opened.
function treeItem(n) {
	const kids = h('ul', { class: 'tree' });
	let open = false, loaded = false;
	const toggle = h('button', { class: 'link', type: 'button', 'aria-expanded': 'false', title: 'expand' }, '▸');
	const li = h('li', { dataset: { id: n.id } }, toggle, ' ', link(`#/node/${n.id}`, n.name),
		h('span', { class: 'type' }, n.type), kids);
	if (n.type === 'team') toggle.style.visibility = 'hidden';
	toggle.addEventListener('click', async () => {
		open = !open;
		toggle.textContent = open ? '▾' : '▸';
		toggle.setAttribute('aria-expanded', String(open));
		kids.hidden = !open;
		if (!open || loaded) return;
		loaded = true;
		try {
			const r = await get(`/nodes/${encodeURIComponent(n.id)}/children`);
			if (!r.children.length) kids.append(h('li', { class: 'muted' }, 'nothing below'));
			for (const c of r.children) kids.append(treeItem(c));
		} catch (e) {
			kids.append(h('li', {}, errorBox(e)));
		}
	});
	return li;
}

async function overviewView(me) {
	const out = h('div', {}, h('h1', {}, `Hello, ${me.user.name || me.user.email}`));
	const rows = me.grants.map((g) => h('tr', {},
		h('td', {}, g.role),
		h('td', {}, g.node_id === 'root' ? 'everything (root)' : link(`#/node/${g.node_id}`, g.node_id)),
		h('td', {}, g.permissions.join(', '))));
	out.append(card('You',
		h('p', {}, `${me.user.email} · login ${me.user.login || '—'} · team `,
			me.team ? link(`#/node/${me.team.id}`, me.team.name) : 'none'),
		h('p', {}, link(`#/user/${me.user.id}`, 'Your activity, applications and devices')),
		h('h2', {}, 'Your grants'),
		h('table', { id: 'grants' }, h('tr', {}, h('th', {}, 'role'), h('th', {}, 'on'), h('th', {}, 'permissions')), rows)));
	if (canSomewhere('node.read')) {
		const tree = h('ul', { class: 'tree top', id: 'org-tree' });
		out.append(card('Organisation', tree));
		try {
			const r = await get('/nodes/root/children');
			for (const c of r.children) tree.append(treeItem(c));
		} catch (e) {
			if (e.status !== 403) {
				tree.append(h('li', {}, errorBox(e)));
				return out;
			}
			// granted below the businesses: start at the granted nodes
			const ids = [...new Set(me.grants.filter((g) => g.permissions.includes('node.read')).map((g) => g.node_id))];
			for (const id of ids) {
				try {
					tree.append(treeItem(await get(`/nodes/${encodeURIComponent(id)}`)));
				} catch (e2) {
					tree.append(h('li', {}, errorBox(e2)));
				}
			}
		}
	}
	return out;
}

async function auditView() {
	const from = h('input', { type: 'datetime-local', id: 'audit-from' });
	const limit = h('select', { id: 'audit-limit' }, [50, 100, 500, 1000].map((n) => h('option', { value: n, selected: n === 100 }, String(n))));
	const body = h('div', {});
	const d = new Date(Date.now() - 7 * 86400e3);
	from.value = d.toISOString().slice(0, 16);
	async function load() {
		clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
		try {
			const q = { limit: limit.value, from: from.value ? new Date(`${from.value}Z`).toISOString() : '' };
			const r = await get(`/audit${qs(q)}`);
			const rows = r.entries.slice().reverse().map((e) => h('tr', {},
				h('td', {}, fmtTime(e.ts)), h('td', {}, e.action), h('td', {}, e.actor_email || e.actor),
				h('td', {}, e.client), h('td', {}, e.node_id), h('td', {}, e.target), h('td', {}, e.result),
				h('td', {}, e.detail ? JSON.stringify(e.detail) : '')));
			clear(body).append(
				r.truncated ? h('p', { class: 'notice' }, 'More entries matched: the oldest are shown; narrow the range.') : '',
				h('table', { id: 'audit' }, h('tr', {}, ['time (UTC)', 'action', 'actor', 'client', 'node', 'target', 'result', 'detail'].map((t) => h('th', {}, t))), rows),
				rows.length ? '' : h('p', { class: 'muted' }, 'No entries.'));
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	const go = h('button', { type: 'button', onclick: load }, 'Show');
	load();
	return h('div', {}, h('h1', {}, 'Audit log'),
		card('Entries (newest first)', h('div', { class: 'row' }, 'from (UTC)', from, 'at most', limit, go), body));
}

async function route() {
	const my = ++seq;
	const hash = location.hash || '#/';
	if (!token()) {
		session.me = null;
		renderHeader();
		clear(view).append(loginView());
		return;
	}
	if (hash === '#/login') {
		navTo('#/');
		return;
	}
	try {
		if (!session.me) session.me = await get('/me');
	} catch (e) {
		if (my !== seq) return;
		if (e.status === 401) return; // the handler shows the sign-in
		clear(view).append(errorBox(e, 'Cannot load your account'));
		return;
	}
	renderHeader();
	const m = hash.match(/^#\/(node|user|people)\/([A-Za-z0-9_]+)$/);
	const dm = hash.match(/^#\/user\/([A-Za-z0-9_]+)\/day\/(\d{4}-\d{2}-\d{2})$/);
	const adm = hash.match(/^#\/(grants|review|devices|provenance)\/([A-Za-z0-9_]+)(?:\/(u_[A-Za-z0-9_]+))?$/);
	const mo = hash.match(/^#\/overview\/([A-Za-z0-9_]+)$/);
	const ma = hash.match(/^#\/apps\/(node|user)\/([A-Za-z0-9_]+)$/);
	let el;
	try {
		if (dm) el = await dayView(dm[1], dm[2]);
		else if (mo) el = await teamOverviewView(mo[1]);
		else if (ma) el = await appsView(ma[1], ma[2]);
		else if (m && m[1] === 'node') el = await nodeView(m[2]);
		else if (hash === '#/roles') el = await rolesView();
		else if (adm && adm[1] === 'grants') el = await grantsView(adm[2], adm[3]);
		else if (adm && adm[1] === 'review' && !adm[3]) el = await reviewView(adm[2]);
		else if (adm && adm[1] === 'devices' && !adm[3]) el = await devicesView(adm[2]);
		else if (adm && adm[1] === 'provenance' && !adm[3]) el = await provenanceView(adm[2]);
		else if (m && m[1] === 'user') el = await userView(m[2]);
		else if (m && m[1] === 'people') el = await peopleView(m[2]);
		else if (hash === '#/audit') el = await auditView();
		else if (/^#\/machines\/[A-Za-z0-9_]+$/.test(hash)) el = await machinesView(hash.slice(11));
		else if (/^#\/machine\/[A-Za-z0-9_]+$/.test(hash)) el = await machineView(hash.slice(10));
		else if (hash === '#/me/tokens') el = await tokensView();
		else el = await overviewView(session.me);
	} catch (e) {
		el = errorBox(e);
	}
	if (my !== seq) return;
	clear(view).append(el);
}

setUnauthorizedHandler(() => {
	setToken(null);
	session.me = null;
	route();
});
window.addEventListener('hashchange', route);
route();
