// roles.js - the roles page (#/roles): every role the caller can see
// (GET /api/v1/roles: built-in, global custom, their businesses' custom
// roles) with its permissions and scope; with role.write, a form to create
// a custom role for a business (or a global one, on root) and deletion.
import { del, get, post } from './api.js';
import { card, clear, errorBox, fmtTime, h } from './dom.js';
import { can, canSomewhere } from './session.js';
import { PERMISSIONS, businessesWith, nodeName, refusal } from './admin.js';

const enc = encodeURIComponent;

function scopeOf(r, names) {
	if (r.builtin) return 'built-in (everywhere)';
	if (r.business_id) return `business ${names[r.business_id] || r.business_id}`;
	return 'global';
}

async function listCard(msg) {
	const body = h('div', { id: 'roles' });
	const out = card('Roles', body);
	async function load() {
		let r;
		try {
			r = await get('/roles');
		} catch (e) {
			clear(body).append(errorBox(e));
			return;
		}
		const names = {};
		await Promise.all([...new Set(r.roles.filter((x) => x.business_id).map((x) => x.business_id))].map(async (id) => {
			names[id] = await nodeName(id);
		}));
		const rows = r.roles.map((role) => {
			const scopePath = role.business_id ? ['root', role.business_id] : ['root'];
			let action = '';
			if (!role.builtin && can('role.write', scopePath)) {
				action = h('button', { type: 'button', class: 'delete-role' }, 'Delete');
				action.addEventListener('click', async () => {
					clear(msg);
					if (!window.confirm(`Delete the role '${role.name}'? Its grants stop carrying any permission.`)) return;
					try {
						await del(`/roles/${enc(role.name)}`);
						msg.append(h('p', { class: 'ok' }, `Role '${role.name}' deleted.`));
						load();
					} catch (e) {
						msg.append(refusal(e, 'Not deleted'));
					}
				});
			}
			return h('tr', { dataset: { name: role.name, builtin: String(!!role.builtin), business: role.business_id || '' } },
				h('td', { class: 'name' }, h('code', {}, role.name)),
				h('td', { class: 'scope' }, scopeOf(role, names)),
				h('td', { class: 'perms', dataset: { value: role.permissions.join(',') } }, role.permissions.join(', ')),
				h('td', {}, role.at ? fmtTime(role.at) : '—'),
				h('td', {}, action));
		});
		clear(body).append(h('table', {}, h('tr', {}, ['role', 'scope', 'permissions', 'created (UTC)', ''].map((t) => h('th', {}, t))), rows));
	}
	await load();
	return { el: out, load };
}

async function createCard(reload) {
	const msg = h('div', { id: 'role-msg' });
	const name = h('input', { id: 'role-name', type: 'text', required: true, maxlength: 64, pattern: '[a-z][a-z0-9_-]*', placeholder: 'e.g. acme-auditor' });
	const scope = h('select', { id: 'role-business' });
	let biz = [];
	try {
		biz = await businessesWith('role.write');
	} catch (e) {
		msg.append(errorBox(e, 'Businesses cannot be listed'));
	}
	for (const b of biz) scope.append(h('option', { value: b.id }, `business ${b.name}`));
	if (can('role.write', ['root'])) scope.append(h('option', { value: '' }, 'global (every business)'));
	const boxes = PERMISSIONS.map((p) => h('label', { class: 'perm' }, h('input', { type: 'checkbox', value: p, name: 'perm' }), ' ', p));
	const form = h('form', { id: 'role-form' },
		h('div', { class: 'row' }, h('label', {}, 'name ', name), h('label', {}, 'for ', scope)),
		h('fieldset', { id: 'role-perms', class: 'perms' }, h('legend', {}, 'permissions'), boxes),
		h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'role-create' }, 'Create role')),
		msg);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clear(msg);
		const perms = [...form.querySelectorAll('input[name=perm]:checked')].map((i) => i.value);
		const req = { name: name.value.trim(), permissions: perms };
		if (scope.value) req.business_id = scope.value;
		try {
			const r = await post('/roles', req);
			msg.append(h('p', { class: 'ok', id: 'role-created' }, `Role '${r.name}' created: ${r.permissions.join(', ')}.`));
			name.value = '';
			for (const b of form.querySelectorAll('input[name=perm]')) b.checked = false;
			reload();
		} catch (e) {
			msg.append(refusal(e, 'Not created'));
		}
	});
	return card('New custom role', h('p', { class: 'muted' },
		'A business\'s role is listed to and granted within that business only; nobody can grant a role holding permissions they lack.'), form);
}

export async function rolesView() {
	const msg = h('div', { id: 'roles-msg' });
	const list = await listCard(msg);
	const parts = [h('h1', {}, 'Roles'), msg, list.el];
	if (canSomewhere('role.write')) parts.push(await createCard(list.load));
	else parts.push(h('p', { class: 'muted', id: 'roles-readonly' }, 'Creating and deleting roles needs role.write (on a business, or on root for global roles).'));
	return h('div', { id: 'roles-page' }, parts);
}
