// provenance.js - where each config value comes from (#/provenance/<node
// id> or #/provenance/<user id>): the effective value of every key
// (GET /api/v1/{nodes,users}/{id}/config/effective) and, along the path
// from the defaults down through the business, domain, project and team
// (and the user), the level that set it and the level that locks it.
import { get } from './api.js';
import { clear, errorBox, h, link } from './dom.js';
import { nodeOf } from './admin.js';

const enc = encodeURIComponent;

function fmtVal(v) {
	if (v === undefined) return '';
	return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function provenanceView(id) {
	const isUser = id.startsWith('u_');
	const title = h('h1', {}, 'Config provenance');
	let eff, subject, path = null;
	try {
		if (isUser) {
			subject = await get(`/users/${enc(id)}`);
			eff = await get(`/users/${enc(id)}/config/effective`);
			if (subject.team_id) path = await nodeOf(subject.team_id).then((n) => n.path, () => null);
		} else {
			eff = await get(`/nodes/${enc(id)}/config/effective`);
			// config.read without node.read: the id names the node
			subject = await nodeOf(id).catch(() => ({ id, name: id, path: null }));
			path = subject.path;
		}
	} catch (e) {
		return h('div', { id: 'provenance-page' }, title, errorBox(e, 'No config to show'));
	}
	const userLevel = `user:${id}`;
	// the levels, top down: default, the nodes of the path, the user
	const levels = ['default'];
	for (const p of path || []) if (p !== 'root' || Object.values(eff.source).includes('root')) levels.push(p);
	for (const s of Object.values(eff.source).concat(Object.values(eff.locked)))
		if (!levels.includes(s) && s !== userLevel) levels.push(s); // the path was not readable
	if (isUser) levels.push(userLevel);
	const names = {};
	await Promise.all(levels.map(async (l) => {
		if (l === 'default') names[l] = { name: 'default', type: '' };
		else if (l === userLevel) names[l] = { name: subject.name || subject.email, type: 'user' };
		else if (l === 'root') names[l] = { name: 'root', type: '' };
		else names[l] = await nodeOf(l).then((n) => ({ name: n.name, type: n.type }), () => ({ name: l, type: '' }));
	}));
	const keys = [...new Set(Object.keys(eff.values).concat(Object.keys(eff.source)))];
	const head = h('tr', {}, h('th', {}, 'key'), h('th', {}, 'effective'), h('th', {}, 'set at'),
		levels.map((l) => h('th', { class: 'level', dataset: { level: l } }, names[l].name, names[l].type ? h('span', { class: 'type' }, names[l].type) : '')));
	const rows = keys.map((k) => {
		const secret = !(k in eff.values);
		const src = eff.source[k];
		const lock = eff.locked[k];
		return h('tr', { dataset: { k } },
			h('td', {}, h('code', {}, k)),
			h('td', { class: 'eff', dataset: { value: secret ? '' : JSON.stringify(eff.values[k]) } }, secret ? (src ? 'set (secret)' : 'not set') : fmtVal(eff.values[k])),
			h('td', { class: 'src', dataset: { source: src || '' } }, src ? names[src]?.name ?? src : '—'),
			levels.map((l) => h('td', { class: `level${l === src ? ' set' : ''}${l === lock ? ' lock' : ''}`, dataset: { level: l } },
				l === src ? '●' : '', l === lock ? h('span', { class: 'lock-mark' }, ' locked') : '')));
	});
	const back = isUser ? link(`#/user/${id}`, subject.name || subject.email) : link(`#/node/${id}`, subject.name);
	const body = h('div', {}, h('table', { id: 'provenance' }, head, rows));
	if (!keys.length) clear(body).append(h('p', { class: 'muted' }, 'No key has a value.'));
	return h('div', { id: 'provenance-page', dataset: { id } },
		title,
		h('p', {}, 'The config of ', back, isUser ? ' (the user level over their team\'s path)' : '',
			': each key\'s effective value and the level that set it (●), from the defaults down; "locked" marks the level that locks a key for everything below it.'),
		h('section', { class: 'card' }, body));
}
