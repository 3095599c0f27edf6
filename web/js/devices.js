// devices.js - devices and enrollment of a node (#/devices/<node id>): for a
// team (with device.write) its enrollment secrets — create one (shown once,
// with a copy button and the actlogd command line), list, revoke — and the
// devices of every team at or below the node (GET /api/v1/devices?node_id)
// with hostname, owner, team, status and last seen: confirm a pending
// device, change its owner (a user of its team), revoke it.
import { del, get, post, put, qs } from './api.js';
import { card, clear, errorBox, fmtTime, h, link } from './dom.js';
import { can } from './session.js';
import { nodeName, nodeOf, refusal } from './admin.js';

const enc = encodeURIComponent;

export function deviceStatus(d) {
	return d.revoked ? 'revoked' : d.pending ? 'pending' : 'confirmed';
}

function secretsCard(team, users) {
	const body = h('div', { id: 'enroll-secrets' });
	const shown = h('div', { id: 'enroll-new' });
	const ttl = h('select', { id: 'enroll-ttl' }, [[1, '1 day'], [7, '7 days'], [30, '30 days'], [365, '1 year']].map(([d, t]) => h('option', { value: d * 86400, selected: d === 7 }, t)));
	async function load() {
		try {
			const r = await get(`/nodes/${enc(team.id)}/enrollment-secrets`);
			const people = new Map(((await teamUsers(users, team.id)) || []).map((u) => [u.id, u.name || u.email]));
			const rows = r.secrets.map((sec) => {
				const btn = h('button', { type: 'button', class: 'revoke' }, 'Revoke');
				btn.addEventListener('click', async () => {
					if (!window.confirm(`Revoke the enrollment secret ${sec.id}? Machines enrolled with it keep their tokens.`)) return;
					try {
						await del(`/nodes/${enc(team.id)}/enrollment-secrets/${enc(sec.id)}`);
						load();
					} catch (e) {
						body.append(refusal(e, 'Not revoked'));
					}
				});
				return h('tr', { dataset: { id: sec.id } }, h('td', {}, h('code', {}, sec.id)), h('td', {}, fmtTime(sec.created)),
					h('td', { class: 'by' }, people.get(sec.by) || sec.by), h('td', {}, fmtTime(sec.expires_at)), h('td', { class: 'state' }, sec.expired ? 'expired' : 'valid'), h('td', {}, btn));
			});
			clear(body).append(rows.length
				? h('table', {}, h('tr', {}, ['id', 'created (UTC)', 'by', 'expires (UTC)', 'state', ''].map((t) => h('th', {}, t))), rows)
				: h('p', { class: 'muted' }, 'No enrollment secret.'),
			r.truncated ? h('p', { class: 'notice' }, 'Only the first 1000 are listed.') : '');
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	const create = h('button', { type: 'button', class: 'primary', id: 'enroll-create' }, 'Create a secret');
	create.addEventListener('click', async () => {
		clear(shown);
		try {
			const r = await post(`/nodes/${enc(team.id)}/enrollment-secrets`, { ttl_s: Number(ttl.value) });
			const cmd = `sudo actlogd enroll --server ${location.origin} --secret ${r.secret}`;
			const note = h('span', { class: 'muted', id: 'enroll-copied' });
			const copy = h('button', { type: 'button', id: 'enroll-copy' }, 'Copy');
			copy.addEventListener('click', async () => {
				try {
					await navigator.clipboard.writeText(r.secret);
					note.textContent = 'copied';
				} catch (e) {
					note.textContent = 'the browser refused: select the secret and copy it';
				}
			});
			shown.append(h('div', { class: 'notice' },
				h('p', {}, `The secret is shown this once (valid until ${fmtTime(r.expires_at)} UTC); it enrolls any number of machines of ${team.name} until then or until it is revoked.`),
				h('p', { class: 'row' }, h('code', { class: 'secret-once', id: 'enroll-secret' }, r.secret), copy, note),
				h('p', {}, 'On each machine, as root:'),
				h('pre', { class: 'cmd', id: 'enroll-cmd' }, cmd),
				h('p', { class: 'muted' }, 'Or keep it out of the shell history: write it to a file readable by root only and use --secret-file FILE.')));
			load();
		} catch (e) {
			shown.append(refusal(e, 'Not created'));
		}
	});
	load();
	return card('Enrollment secrets', h('div', { class: 'row' }, 'valid for', ttl, create), shown, body);
}

// The users of a team for the owner select (cached per team for one page).
function teamUsers(cache, teamId) {
	if (!cache.has(teamId)) cache.set(teamId, get(`/users${qs({ node_id: teamId })}`).then((r) => r.users, () => null));
	return cache.get(teamId);
}

async function devicesCard(node, users) {
	const body = h('div', { id: 'device-list' });
	const msg = h('div', { id: 'device-msg' });
	async function act(d, what, fn) {
		clear(msg);
		try {
			const v = await fn();
			msg.append(h('p', { class: 'ok', dataset: { device: d.id, status: deviceStatus(v) } }, `${d.hostname}: ${what}.`));
			load();
		} catch (e) {
			msg.append(refusal(e, `${d.hostname}: not ${what}`));
		}
	}
	async function row(d) {
		let teamPath = null;
		try {
			teamPath = (await nodeOf(d.team_id)).path;
		} catch (e) {
			/* the team's path is not readable: the node's path decides */
		}
		const writable = can('device.write', teamPath || (node.type === 'team' ? node.path : []));
		const list = writable ? await teamUsers(users, d.team_id) : null;
		let owner;
		if (list) {
			owner = h('select', { class: 'owner', 'aria-label': `owner of ${d.hostname}` }, h('option', { value: '' }, '— nobody —'),
				list.map((u) => h('option', { value: u.id, selected: u.id === d.owner_id }, u.name || u.email)));
			owner.addEventListener('change', () => act(d, 'owner changed', () => put(`/devices/${enc(d.id)}`, { owner_id: owner.value || null })));
		} else {
			owner = d.owner_id ? link(`#/user/${d.owner_id}`, d.owner_id) : '—';
		}
		const actions = h('td', { class: 'actions' });
		if (writable && d.pending && !d.revoked)
			actions.append(h('button', { type: 'button', class: 'confirm', onclick: () => act(d, 'confirmed', () => post(`/devices/${enc(d.id)}/confirm`)) }, 'Confirm'), ' ');
		if (writable && !d.revoked)
			actions.append(h('button', {
				type: 'button', class: 'revoke',
				onclick: () => {
					if (window.confirm(`Revoke ${d.hostname} (${d.id})? Its token stops working at once; nothing un-revokes a device.`))
						act(d, 'revoked', () => post(`/devices/${enc(d.id)}/revoke`));
				},
			}, 'Revoke'));
		const st = deviceStatus(d);
		return h('tr', { dataset: { id: d.id, host: d.host_id } },
			h('td', { class: 'hostname' }, d.hostname),
			h('td', { class: 'owner' }, owner),
			h('td', { class: 'team' }, link(`#/node/${d.team_id}`, await nodeName(d.team_id))),
			h('td', { class: `status ${st}`, dataset: { value: st } }, st),
			h('td', { class: 'seen' }, fmtTime(d.last_seen)),
			actions);
	}
	async function load() {
		let r;
		try {
			r = await get(`/devices${qs({ node_id: node.id })}`);
		} catch (e) {
			clear(body).append(errorBox(e));
			return;
		}
		const rows = [];
		for (const d of r.devices) rows.push(await row(d));
		clear(body).append(rows.length
			? h('table', {}, h('tr', {}, ['hostname', 'owner', 'team', 'status', 'last seen (UTC)', ''].map((t) => h('th', {}, t))), rows)
			: h('p', { class: 'muted' }, 'No device enrolled.'),
		r.truncated ? h('p', { class: 'notice' }, 'Only the first 1000 devices are listed: open a team for the rest.') : '');
	}
	await load();
	const refresh = h('button', { type: 'button', id: 'devices-refresh', onclick: () => { clear(msg); load(); } }, 'Refresh');
	return card('Devices', h('div', { class: 'row' }, refresh,
		h('span', { class: 'muted' }, 'pending: enrolled again without its token, waits for a confirmation; revoked: its token no longer works.')), msg, body);
}

export async function devicesView(nodeId) {
	let node;
	try {
		node = await nodeOf(nodeId);
	} catch (e) {
		return h('div', { id: 'devices-page' }, h('h1', {}, 'Devices'), errorBox(e, 'This node cannot be shown'));
	}
	const parts = [h('h1', {}, 'Devices of ', link(`#/node/${node.id}`, node.name), h('span', { class: 'type' }, node.type))];
	const users = new Map(); // team id -> Promise of its users
	if (node.type === 'team' && can('device.write', node.path)) parts.push(secretsCard(node, users));
	else if (node.type !== 'team') parts.push(h('p', { class: 'muted' }, 'Enrollment secrets belong to a team: open one of its teams to enroll machines.'));
	parts.push(await devicesCard(node, users));
	return h('div', { id: 'devices-page', dataset: { id: node.id } }, parts);
}
