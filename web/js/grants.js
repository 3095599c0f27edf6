// grants.js - grants under a node (#/grants/<node id>[/<user id>]): pick a
// user of the node's teams, list their grants (GET /api/v1/grants?user_id),
// grant a role on the node or a node below it (POST /api/v1/grants) and
// revoke (DELETE /api/v1/grants). The API's no-escalation refusal is shown
// with the permissions it names as missing.
import { del, get, post, qs } from './api.js';
import { card, clear, errorBox, fmtTime, h, link } from './dom.js';
import { can } from './session.js';
import { nodeName, nodeOf, nodeOptions, refusal, subtree } from './admin.js';

const enc = encodeURIComponent;

function roleLabel(r, names) {
	if (r.builtin) return `${r.name} (built-in)`;
	return r.business_id ? `${r.name} (business ${names[r.business_id] || r.business_id})` : `${r.name} (global)`;
}

// The grants of user uid, each with a revoke button where the caller holds
// grant.write on the grant's node.
async function grantsOf(uid, nodeId, msg, body) {
	clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
	let r;
	try {
		r = await get(`/grants${qs({ user_id: uid })}`);
	} catch (e) {
		clear(body).append(errorBox(e));
		return;
	}
	const rows = [];
	for (const g of r.grants) {
		let path = null;
		try {
			path = (await nodeOf(g.node_id)).path;
		} catch (e) {
			/* not readable: no revoke offered */
		}
		let revoke = '';
		if (path && can('grant.write', path)) {
			revoke = h('button', { type: 'button', class: 'revoke' }, 'Revoke');
			revoke.addEventListener('click', async () => {
				clear(msg);
				if (!window.confirm(`Revoke the role '${g.role}' on ${await nodeName(g.node_id)}?`)) return;
				try {
					await del(`/grants${qs({ user_id: uid, role: g.role, node_id: g.node_id })}`);
					msg.append(h('p', { class: 'ok', id: 'grant-revoked' }, `Revoked '${g.role}'.`));
					grantsOf(uid, nodeId, msg, body);
				} catch (e) {
					msg.append(refusal(e, 'Not revoked'));
				}
			});
		}
		rows.push(h('tr', { dataset: { role: g.role, node: g.node_id } },
			h('td', { class: 'role' }, g.role),
			h('td', { class: 'node' }, g.node_id === 'root' ? 'root' : link(`#/node/${g.node_id}`, await nodeName(g.node_id))),
			h('td', { class: 'by' }, g.created_by ? g.created_by.login || g.created_by.id : g.by),
			h('td', {}, fmtTime(g.created_at)),
			h('td', {}, revoke)));
	}
	clear(body).append(rows.length
		? h('table', { id: 'user-grants' }, h('tr', {}, ['role', 'on', 'granted by', 'at (UTC)', ''].map((t) => h('th', {}, t))), rows)
		: h('p', { class: 'muted' }, 'No grant.'));
}

export async function grantsView(nodeId, userId) {
	let node;
	try {
		node = await nodeOf(nodeId);
	} catch (e) {
		return h('div', { id: 'grants-page' }, h('h1', {}, 'Grants'), errorBox(e, 'This node cannot be shown'));
	}
	const head = [h('h1', {}, 'Grants under ', link(`#/node/${node.id}`, node.name), h('span', { class: 'type' }, node.type)),
		h('p', { class: 'muted' }, link(`#/review/${node.id}`, 'Access review of this node'), ' · ', link('#/roles', 'Roles'))];
	let users;
	try {
		users = (await get(`/users${qs({ node_id: node.id })}`)).users;
	} catch (e) {
		return h('div', { id: 'grants-page' }, head, errorBox(e));
	}
	if (userId && !users.some((u) => u.id === userId)) {
		try {
			users.unshift(await get(`/users/${enc(userId)}`));
		} catch (e) {
			/* unknown or not readable: not listed */
		}
	}
	const msg = h('div', { id: 'grant-msg' });
	const body = h('div', { id: 'grants-of' });
	const who = h('select', { id: 'grant-user' }, h('option', { value: '' }, '— choose a person —'),
		users.map((u) => h('option', { value: u.id, selected: u.id === userId }, `${u.name || u.email} (${u.login || u.email})`)));
	who.addEventListener('change', () => {
		clear(msg);
		if (who.value) location.hash = `#/grants/${node.id}/${who.value}`;
	});
	const parts = [...head, card('Person', h('div', { class: 'row' }, 'grants of', who), body)];
	if (userId) grantsOf(userId, node.id, msg, body);
	else body.append(h('p', { class: 'muted' }, 'Choose a person to see and change their grants.'));
	if (!can('grant.write', node.path)) {
		parts.push(h('p', { class: 'muted', id: 'grant-none' }, 'Granting and revoking roles here needs grant.write on this node.'), msg);
		return h('div', { id: 'grants-page', dataset: { id: node.id } }, parts);
	}
	const roleSel = h('select', { id: 'grant-role' });
	const nodeSel = h('select', { id: 'grant-node' });
	try {
		const [roles, below] = await Promise.all([get('/roles'), subtree(node.id)]);
		const names = {};
		for (const r of roles.roles) if (r.business_id) names[r.business_id] = await nodeName(r.business_id);
		roleSel.append(...roles.roles.map((r) => h('option', { value: r.name }, roleLabel(r, names))));
		nodeSel.append(...nodeOptions(below, node.id));
	} catch (e) {
		msg.append(errorBox(e));
	}
	const go = h('button', { type: 'button', class: 'primary', id: 'grant-submit' }, 'Grant');
	go.addEventListener('click', async () => {
		clear(msg);
		if (!who.value) {
			msg.append(errorBox('Choose a person first.'));
			return;
		}
		try {
			const g = await post('/grants', { user_id: who.value, role: roleSel.value, node_id: nodeSel.value });
			msg.append(h('p', { class: 'ok', id: 'grant-made' }, `Granted '${g.role}' on ${await nodeName(g.node_id)}.`));
			grantsOf(who.value, node.id, msg, body);
		} catch (e) {
			msg.append(refusal(e, 'Not granted'));
		}
	});
	parts.push(card('Grant a role', h('div', { class: 'row' }, 'role', roleSel, 'on', nodeSel, go),
		h('p', { class: 'muted' }, 'Nobody grants or revokes a role holding permissions they lack on that node: the refusal names what is missing.'), msg));
	return h('div', { id: 'grants-page', dataset: { id: node.id } }, parts);
}
