// node.js - a node's page (business, domain, project or team): what is
// below it, its people and devices, top applications over a range, its
// config with the level that set each value, and a team's enrollment
// secrets.
import { del, get, post, put, qs } from './api.js';
import { addDays, card, clear, errorBox, fmtBytes, fmtTime, h, link, utcDay } from './dom.js';
import { barList } from './chart.js';
import { can } from './session.js';
import { downloadsCard } from './downloads.js';

const enc = encodeURIComponent;

// The config keys of docs/API.md (Config): type, default, secret.
const KEYS = [
	['logging.enabled', 'bool', true],
	['activity.interval_s', 'int', 60],
	['idle.threshold_s', 'int', 300],
	['sysinfo.interval_s', 'int', 900],
	['apps.titles', 'bool', false],
	['screenshots.enabled', 'bool', false],
	['screenshots.interval_s', 'int', 600],
	['screenshots.jitter_s', 'int', 0],
	['screenshots.blur', 'bool', false],
	['screenshots.format', 'str', 'webp'],
	['screenshots.quality', 'int', 50],
	['screenshots.employee_view', 'bool', false],
	['retention.days', 'int', 365],
	['s3.bucket', 'str'],
	['s3.region', 'str'],
	['s3.endpoint', 'str'],
	['s3.path_style', 'bool'],
	['s3.access_key_id', 'str'],
	['s3.secret_access_key', 'secret'],
	['s3.session_token', 'secret'],
];

function sysinfoSummary(si) {
	if (!si) return 'no sysinfo yet';
	const parts = [];
	if (si.os && (si.os.pretty_name || si.os.name)) parts.push(si.os.pretty_name || si.os.name);
	if (si.kernel && si.kernel.release) parts.push(`kernel ${si.kernel.release}`);
	if (si.cpu && si.cpu.threads) parts.push(`${si.cpu.threads} CPU threads`);
	if (si.memory && si.memory.total) parts.push(`${fmtBytes(si.memory.total)} RAM`);
	if (!parts.length) parts.push(`reported ${fmtTime(si.ts)}`);
	return parts.join(' · ');
}

// A table of device views, each with the summary of its newest sysinfo
// (one request a device, for the first 50). people: user id -> name.
export async function deviceTable(devices, people = {}) {
	const rows = devices.map((d, i) => {
		const si = h('td', { class: 'sysinfo' }, i < 50 ? '…' : '');
		if (i < 50)
			get(`/devices/${enc(d.id)}/sysinfo`).then(
				(r) => clear(si).append(sysinfoSummary(r.latest)),
				(e) => clear(si).append(e.status === 403 ? 'not visible to you' : errorBox(e)));
		return h('tr', { dataset: { id: d.id } },
			h('td', { class: 'hostname' }, d.hostname),
			h('td', {}, d.owner_id ? link(`#/user/${d.owner_id}`, people[d.owner_id] || d.owner_id) : '—'),
			usersSeen(d.users_seen),
			h('td', {}, fmtTime(d.last_seen)),
			h('td', {}, d.agent_version),
			h('td', {}, d.revoked ? 'revoked' : d.pending ? 'pending' : 'active'),
			si);
	});
	return h('table', { class: 'devices' },
		h('tr', {}, ['hostname', 'owner', 'users seen', 'last seen (UTC)', 'agent', 'state', 'latest sysinfo'].map((t) => h('th', {}, t))), rows);
}

// The team users a device's records named (newest first), each a link with
// the time it was last seen on the device.
function usersSeen(list) {
	const td = h('td', { class: 'users-seen' });
	if (!Array.isArray(list) || !list.length) {
		td.append('—');
		return td;
	}
	list.forEach((u, i) => {
		if (i) td.append(', ');
		td.append(h('span', { title: `last seen ${fmtTime(u.last_seen)} UTC` }, link(`#/user/${u.user_id}`, u.login)));
	});
	return td;
}

function fmtVal(v) {
	if (v === undefined) return '—';
	return typeof v === 'string' ? v : JSON.stringify(v);
}

// The config of node: the effective values the server merges from the root
// down to it (GET /nodes/{id}/config/effective), with the level that set
// each and the locks, and (with config.write) a form for this level's own
// document.
async function configCard(node, names) {
	const body = h('div', { class: 'cfg', id: 'config' });
	const out = card('Config', body);
	let mine, merged;
	try {
		[mine, merged] = await Promise.all([get(`/nodes/${enc(node.id)}/config`), get(`/nodes/${enc(node.id)}/config/effective`)]);
	} catch (e) {
		body.append(e.status === 403 ? h('p', { class: 'muted' }, `Config is not visible to you: ${e.message}`) : errorBox(e));
		return out;
	}
	const eff = merged.values, src = merged.source, lockedAt = merged.locked;
	body.append(h('p', {}, link(`#/provenance/${node.id}`, 'Where each value comes from, level by level')));
	const levelName = (id) => (id === 'default' ? 'default' : id === node.id ? `${names[id] || id} (here)` : names[id] || id);
	const writable = can('config.write', node.path);
	const inputs = {};
	const rows = KEYS.map(([k, type]) => {
		const secret = type === 'secret';
		const own = mine.values[k];
		const setHere = secret ? mine.secrets_set.includes(k) : own !== undefined;
		const lockAbove = lockedAt[k] && lockedAt[k] !== node.id ? lockedAt[k] : null;
		let effText, from;
		if (secret) {
			effText = src[k] ? 'set' : 'not set';
			from = src[k] ? levelName(src[k]) : '—';
		} else {
			effText = fmtVal(eff[k]);
			from = k in src ? levelName(src[k]) : '—';
		}
		const cells = [h('td', {}, h('code', {}, k)), h('td', { class: 'eff', dataset: { k } }, effText), h('td', {}, from),
			h('td', {}, lockedAt[k] ? `locked at ${levelName(lockedAt[k])}` : '')];
		if (writable) {
			let input;
			if (type === 'bool') {
				input = h('select', {}, h('option', { value: '' }, 'inherit'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
				input.value = own === undefined ? '' : String(own);
			} else if (secret) {
				input = h('input', { type: 'password', autocomplete: 'new-password', placeholder: setHere ? 'set (type to replace)' : 'not set' });
			} else {
				input = h('input', { type: type === 'int' ? 'number' : 'text', placeholder: 'inherit', value: own === undefined ? '' : String(own) });
			}
			// under a lock from above only removing this level's value works
			input.disabled = !!lockAbove && !setHere;
			const remove = secret && setHere ? h('label', {}, h('input', { type: 'checkbox', class: 'rm' }), ' remove') : '';
			const lock = h('input', { type: 'checkbox', class: 'lock', checked: mine.locked.includes(k), title: 'lock for everything below' });
			inputs[k] = { input, type, own, setHere, remove: remove ? remove.querySelector('input') : null, lock };
			cells.push(h('td', {}, input, ' ', remove, lockAbove ? h('span', { class: 'muted' }, setHere ? ' locked above: only removing works' : ` locked at ${levelName(lockAbove)}`) : ''),
				h('td', {}, h('label', {}, lock, ' lock here')));
		}
		return h('tr', { dataset: { k } }, cells);
	});
	const head = ['key', 'effective', 'set at', 'lock'].concat(writable ? ['this level', ''] : []);
	body.append(h('table', {}, h('tr', {}, head.map((t) => h('th', {}, t))), rows));
	if (!writable) {
		body.append(h('p', { class: 'muted' }, 'You may read this config, not change it.'));
		return out;
	}
	const msg = h('div', { id: 'config-msg' });
	const save = h('button', { type: 'button', class: 'primary', id: 'config-save' }, 'Save this level');
	save.addEventListener('click', async () => {
		clear(msg);
		const values = {};
		let bad = null;
		for (const [k, f] of Object.entries(inputs)) {
			if (f.input.disabled) continue;
			const raw = f.input.value;
			if (f.type === 'secret') {
				if (raw !== '') values[k] = raw;
				else if (f.remove && f.remove.checked) values[k] = null;
				continue;
			}
			let v;
			if (raw === '') v = null;
			else if (f.type === 'bool') v = raw === 'true';
			else if (f.type === 'int') {
				v = Number(raw);
				if (!Number.isInteger(v)) { bad = `${k} must be a whole number`; break; }
			} else v = raw;
			if (v === null ? f.own !== undefined : v !== f.own) values[k] = v;
		}
		if (bad) { msg.append(errorBox(bad)); return; }
		const locked = Object.entries(inputs).filter(([, f]) => f.lock.checked).map(([k]) => k);
		const req = {};
		if (Object.keys(values).length) req.values = values;
		if (locked.slice().sort().join() !== mine.locked.slice().sort().join()) req.locked = locked;
		if (!Object.keys(req).length) { msg.append(h('p', { class: 'muted' }, 'Nothing changed.')); return; }
		try {
			await put(`/nodes/${enc(node.id)}/config`, req);
			const fresh = await configCard(node, names);
			out.replaceWith(fresh);
			fresh.querySelector('#config').prepend(h('p', { class: 'ok', id: 'config-saved' }, 'Saved.'));
		} catch (e) {
			msg.append(errorBox(e, 'Not saved'));
		}
	});
	body.append(h('div', { class: 'row' }, save), msg);
	return out;
}

function secretsCard(node) {
	const body = h('div', { id: 'secrets' });
	const shown = h('div', {});
	const ttl = h('select', { id: 'secret-ttl' }, [[1, '1 day'], [7, '7 days'], [30, '30 days'], [365, '1 year']].map(([d, t]) => h('option', { value: d * 86400, selected: d === 30 }, t)));
	async function load() {
		try {
			const r = await get(`/nodes/${enc(node.id)}/enrollment-secrets`);
			const rows = r.secrets.map((sec) => {
				const btn = h('button', { type: 'button' }, 'Revoke');
				btn.addEventListener('click', async () => {
					try {
						await del(`/nodes/${enc(node.id)}/enrollment-secrets/${enc(sec.id)}`);
						load();
					} catch (e) {
						body.append(errorBox(e, 'Not revoked'));
					}
				});
				return h('tr', { dataset: { id: sec.id } }, h('td', {}, h('code', {}, sec.id)), h('td', {}, fmtTime(sec.created)),
					h('td', {}, sec.by), h('td', {}, fmtTime(sec.expires_at)), h('td', {}, sec.expired ? 'expired' : 'valid'), h('td', {}, btn));
			});
			clear(body).append(rows.length
				? h('table', {}, h('tr', {}, ['id', 'created', 'by', 'expires', 'state', ''].map((t) => h('th', {}, t))), rows)
				: h('p', { class: 'muted' }, 'No enrollment secret.'));
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	const create = h('button', { type: 'button', id: 'secret-create' }, 'Create a secret');
	create.addEventListener('click', async () => {
		clear(shown);
		try {
			const r = await post(`/nodes/${enc(node.id)}/enrollment-secrets`, { ttl_s: Number(ttl.value) });
			shown.append(h('p', { class: 'notice' }, 'The secret is shown this once: give it to `actlogd enroll --secret` on the machines of this team.'),
				h('p', { class: 'secret-once', id: 'secret-value' }, r.secret));
			load();
		} catch (e) {
			shown.append(errorBox(e, 'Not created'));
		}
	});
	load();
	return card('Enrollment secrets', h('div', { class: 'row' }, 'valid for', ttl, create), shown, body);
}

function appsCard(node) {
	const today = utcDay(new Date());
	const from = h('input', { type: 'date', id: 'apps-from', value: addDays(today, -6) });
	const to = h('input', { type: 'date', id: 'apps-to', value: today });
	const body = h('div', { id: 'node-apps' });
	async function load() {
		clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
		try {
			const r = await get(`/apps/top${qs({ node_id: node.id, from: `${from.value}T00:00:00Z`, to: `${addDays(to.value, 1)}T00:00:00Z`, limit: 20 })}`);
			clear(body).append(r.apps.length ? barList(r.apps) : h('p', { class: 'muted' }, 'No applications recorded in this range.'));
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	load();
	return card('Top applications',
		h('div', { class: 'row' }, 'from', from, 'to', to, '(UTC days)', h('button', { type: 'button', id: 'apps-show', onclick: load }, 'Show')), body);
}

async function section(title, id, fn) {
	const body = h('div', { id });
	try {
		await fn(body);
	} catch (e) {
		clear(body).append(e.status === 403 ? h('p', { class: 'muted' }, `Not available to you: ${e.message}`) : errorBox(e));
	}
	return card(title, body);
}

export async function nodeView(id) {
	let node;
	try {
		node = await get(`/nodes/${enc(id)}`);
	} catch (e) {
		return h('div', { id: 'node-page' }, h('h1', {}, 'Node'), errorBox(e, 'This node cannot be shown'));
	}
	const names = { root: 'root' };
	names[node.id] = node.name;
	await Promise.all(node.path.filter((p) => p !== 'root' && p !== node.id).map((p) =>
		get(`/nodes/${enc(p)}`).then((n) => { names[p] = n.name; }, () => {})));
	const crumbs = h('p', { class: 'muted' }, node.path.filter((p) => p !== 'root').map((p, i) => [i ? ' › ' : '', p === node.id ? names[p] : link(`#/node/${p}`, names[p] || p)]));
	const parts = [h('h1', {}, node.name, h('span', { class: 'type' }, node.type)), crumbs,
		h('p', { class: 'admin-links' }, link(`#/devices/${node.id}`, 'Devices and enrollment'), ' · ', link(`#/review/${node.id}`, 'Access review'),
			' · ', link(`#/grants/${node.id}`, 'Grants'), ' · ', link(`#/provenance/${node.id}`, 'Config provenance'))];
	if (can('user.write', node.path)) parts.push(h('p', {}, link(`#/people/${node.id}`, 'Manage people')));
	parts.push(h('p', { id: 'node-views' }, link(`#/overview/${enc(node.id)}`, 'Team overview'), ' · ', link(`#/apps/node/${enc(node.id)}`, 'Applications')));
	const grid = h('div', { class: 'grid' });
	parts.push(grid);
	if (node.type !== 'team')
		grid.append(await section('Below', 'children', async (b) => {
			const r = await get(`/nodes/${enc(node.id)}/children`);
			b.append(r.children.length ? h('ul', {}, r.children.map((c) => h('li', {}, link(`#/node/${c.id}`, c.name), h('span', { class: 'type' }, c.type)))) : h('p', { class: 'muted' }, 'Nothing below.'));
		}));
	const people = {};
	grid.append(await section('People', 'users', async (b) => {
		const r = await get(`/users${qs({ node_id: node.id })}`);
		for (const u of r.users) people[u.id] = u.name || u.email;
		b.append(r.users.length
			? h('table', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'email'), h('th', {}, 'login'), h('th', {}, 'state')),
				r.users.map((u) => h('tr', { dataset: { id: u.id } }, h('td', {}, link(`#/user/${u.id}`, u.name || u.email)), h('td', {}, u.email), h('td', {}, u.login || '—'), h('td', {}, u.disabled ? 'disabled' : 'active'))))
			: h('p', { class: 'muted' }, 'Nobody yet.'));
		if (r.truncated) b.append(h('p', { class: 'notice' }, 'Only the first 1000 are listed.'));
	}));
	parts.push(await section('Devices', 'devices', async (b) => {
		const r = await get(`/devices${qs({ node_id: node.id })}`);
		b.append(r.devices.length ? await deviceTable(r.devices, people) : h('p', { class: 'muted' }, 'No device enrolled.'));
	}));
	parts.push(appsCard(node));
	parts.push(downloadsCard({ node_id: node.id }));
	parts.push(await configCard(node, names));
	if (node.type === 'team' && can('device.write', node.path)) parts.push(secretsCard(node));
	return h('div', { id: 'node-page', dataset: { id: node.id } }, parts);
}
