// people.js - administration of the people of a node (#/people/<node id>):
// the people of the teams at and below it with their team, login, state
// and last sign-in; adding a person; and for one person: name and login,
// a move to another team below the node, disable/enable, a password reset,
// the export of their data (a ZIP) and their erasure. Every change is an
// API call (docs/API.md: Users); the API's refusals are shown as they are.
import { api, get, post, qs } from './api.js';
import { card, clear, errorBox, fmtTime, h, link } from './dom.js';
import { can } from './session.js';

const enc = encodeURIComponent;
const WALK_MAX = 500; // nodes visited to find the teams below a node

// The teams at and below node (node.read), [{id, name, path}] by name.
async function teamsBelow(node) {
	const out = [], queue = [node];
	let seen = 0;
	while (queue.length && seen < WALK_MAX) {
		const n = queue.shift();
		seen++;
		if (n.type === 'team') {
			out.push(n);
			continue;
		}
		try {
			const r = await get(`/nodes/${enc(n.id)}/children`);
			queue.push(...r.children);
		} catch (e) {
			/* a branch the viewer cannot read */
		}
	}
	return out.sort((a, b) => a.name.localeCompare(b.name));
}

function message(box, text, ok) {
	clear(box).append(h('p', { class: ok ? 'ok' : 'error', role: ok ? 'status' : 'alert' }, text));
}

// Save blob as a download named name (the CSP allows blob: URLs).
function download(blob, name) {
	const url = URL.createObjectURL(blob);
	const a = h('a', { href: url, download: name, id: 'people-download' });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function teamSelect(id, teams, selected) {
	return h('select', { id }, teams.map((t) => h('option', { value: t.id, selected: t.id === selected }, t.name)));
}

function addForm(teams, box, reload) {
	const f = {
		email: h('input', { id: 'new-email', type: 'email', required: true }),
		name: h('input', { id: 'new-name', type: 'text', required: true }),
		login: h('input', { id: 'new-login', type: 'text', placeholder: 'from the email' }),
		password: h('input', { id: 'new-password', type: 'password', required: true, autocomplete: 'new-password' }),
		team: teamSelect('new-team', teams, teams.length ? teams[0].id : ''),
	};
	const form = h('form', { id: 'people-add', class: 'people-form' },
		h('label', {}, 'Email', f.email), h('label', {}, 'Name', f.name), h('label', {}, 'Login', f.login),
		h('label', {}, 'Password', f.password), h('label', {}, 'Team', f.team),
		h('button', { class: 'primary', type: 'submit' }, 'Add'));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			const u = await post('/users', {
				email: f.email.value, name: f.name.value, login: f.login.value || undefined,
				password: f.password.value, team_id: f.team.value,
			});
			for (const k of ['email', 'name', 'login', 'password']) f[k].value = '';
			await reload(`${u.email} added.`);
		} catch (e) {
			clear(box).append(errorBox(e, 'Cannot add'));
		}
	});
	return form;
}

// The actions on one person, shown below the table.
function personPanel(u, teams, names, box, reload) {
	const panel = h('section', { class: 'card', id: 'person', dataset: { id: u.id } });
	const act = async (what, fn, done) => {
		try {
			await fn();
			await reload(done, u.id);
		} catch (e) {
			clear(box).append(errorBox(e, what));
		}
	};
	const name = h('input', { id: 'edit-name', type: 'text', value: u.name || '' });
	const login = h('input', { id: 'edit-login', type: 'text', value: u.login || '' });
	const team = teamSelect('move-team', teams, u.team_id);
	const pw = h('input', { id: 'reset-password', type: 'password', autocomplete: 'new-password' });
	const confirm = h('input', { id: 'erase-confirm', type: 'email', placeholder: u.email });
	const progress = h('div', { id: 'erase-progress' });
	panel.append(
		h('h2', {}, u.name || u.email, ' ', h('span', { class: 'type' }, u.email)),
		h('div', { class: 'row' }, 'Name', name, 'Login', login,
			h('button', { id: 'edit-save', type: 'button', onclick: () => act('Cannot save', () => api('PATCH', `/users/${enc(u.id)}`, { body: { name: name.value, login: login.value } }), 'Saved.') }, 'Save')),
		h('div', { class: 'row' }, 'Team', team,
			h('button', { id: 'move', type: 'button', onclick: () => act('Cannot move', () => api('PATCH', `/users/${enc(u.id)}`, { body: { team_id: team.value } }), `Moved to ${names[team.value] || team.value}.`) }, 'Move')),
		h('div', { class: 'row' },
			u.disabled
				? h('button', { id: 'enable', type: 'button', onclick: () => act('Cannot enable', () => post(`/users/${enc(u.id)}/enable`), 'Enabled.') }, 'Enable')
				: h('button', { id: 'disable', type: 'button', onclick: () => act('Cannot disable', () => post(`/users/${enc(u.id)}/disable`), 'Disabled: their sessions ended.') }, 'Disable'),
			'New password', pw,
			h('button', { id: 'reset', type: 'button', onclick: () => act('Cannot reset the password', () => api('PATCH', `/users/${enc(u.id)}`, { body: { password: pw.value } }), 'Password reset: their sessions ended.') }, 'Reset password')),
		h('div', { class: 'row' },
			h('button', {
				id: 'export', type: 'button', onclick: async () => {
					message(box, 'Preparing the export…', true);
					try {
						const res = await api('GET', `/users/${enc(u.id)}/export.zip`, { raw: true });
						download(await res.blob(), `actlog-${u.id}.zip`);
						message(box, 'Export downloaded.', true);
					} catch (e) {
						clear(box).append(errorBox(e, 'Cannot export'));
					}
				},
			}, 'Export data (ZIP)')),
		h('div', { class: 'row danger' }, 'Erase: type their email', confirm,
			h('button', {
				id: 'erase', type: 'button', onclick: async () => {
					let last = -1;
					for (;;) {
						let r;
						try {
							r = await post(`/users/${enc(u.id)}/erase`, { confirm: confirm.value });
						} catch (e) {
							clear(box).append(errorBox(e, 'Cannot erase'));
							return;
						}
						const e = r.erased, n = e.records + e.rollups + e.screenshots;
						clear(progress).append(h('p', { class: 'muted', dataset: { records: e.records, rollups: e.rollups, screenshots: e.screenshots } },
							`${r.done ? 'Erased' : 'Erasing…'} ${e.records} records, ${e.rollups} rollups, ${e.screenshots} screenshots`));
						if (r.done) break;
						if (n === last && e.s3_errors) {
							clear(box).append(errorBox(`${e.s3_errors} screenshots could not be deleted from S3; try again later`, 'Erasure paused'));
							return;
						}
						last = n;
					}
					await reload(`${u.email} erased.`);
				},
			}, 'Erase')),
		progress);
	return panel;
}

export async function peopleView(id) {
	let node;
	try {
		node = await get(`/nodes/${enc(id)}`);
	} catch (e) {
		return h('div', { id: 'people-page' }, h('h1', {}, 'People'), errorBox(e, 'This node cannot be shown'));
	}
	const page = h('div', { id: 'people-page', dataset: { id: node.id } });
	const box = h('div', { id: 'people-msg' });
	const list = h('div', {});
	const side = h('div', {});
	const teams = await teamsBelow(node);
	const names = Object.fromEntries(teams.map((t) => [t.id, t.name]));
	const writable = can('user.write', node.path);

	async function reload(done, open) {
		if (done) message(box, done, true);
		let r;
		try {
			r = await get(`/users${qs({ node_id: node.id })}`);
		} catch (e) {
			clear(list).append(errorBox(e));
			return;
		}
		clear(side);
		const rows = r.users.map((u) => {
			const tr = h('tr', { dataset: { id: u.id, email: u.email } },
				h('td', { class: 'name' }, link(`#/user/${u.id}`, u.name || u.email)),
				h('td', {}, u.email),
				h('td', { class: 'login' }, u.login || '—'),
				h('td', { class: 'team', dataset: { value: u.team_id } }, names[u.team_id] || u.team_id),
				h('td', { class: 'state' }, u.erasing ? 'being erased' : u.disabled ? 'disabled' : 'active'),
				h('td', { class: 'last', dataset: { value: u.last_sign_in || '' } }, fmtTime(u.last_sign_in)),
				h('td', {}, writable ? h('button', { type: 'button', class: 'manage', onclick: () => clear(side).append(personPanel(u, teams, names, box, reload)) }, 'Manage') : ''));
			if (u.id === open) queueMicrotask(() => clear(side).append(personPanel(u, teams, names, box, reload)));
			return tr;
		});
		clear(list).append(
			h('table', { id: 'people', dataset: { count: r.users.length } },
				h('tr', {}, ['name', 'email', 'login', 'team', 'state', 'last sign-in (UTC)', ''].map((t) => h('th', {}, t))), rows),
			rows.length ? '' : h('p', { class: 'muted' }, 'Nobody yet.'),
			r.truncated ? h('p', { class: 'notice' }, 'Only the first 1000 are listed.') : '');
	}
	await reload();
	page.append(h('h1', {}, 'People of ', link(`#/node/${node.id}`, node.name), h('span', { class: 'type' }, node.type)), box,
		card('People', list), side);
	if (writable && teams.length) page.append(card('Add a person', addForm(teams, box, reload)));
	return page;
}
