// admin.js - what the administration pages (roles, grants, access review,
// devices, config provenance) share: node names, the nodes below a node
// for pickers, the businesses where one holds a permission, the API's
// no-escalation refusal with what is missing, and a sortable, filterable
// table. Everything is built with h(): API strings stay text.
import { get } from './api.js';
import { clear, h } from './dom.js';
import { session, can } from './session.js';

const enc = encodeURIComponent;

// Every permission of docs/API.md (Permissions), for the role form.
export const PERMISSIONS = [
	'node.read', 'node.write', 'user.read', 'user.write', 'role.write', 'grant.write',
	'config.read', 'config.write', 'device.read', 'device.write', 'activity.read',
	'audit.read', 'self.read', 'screenshot.read', 'store.admin',
];

const nodes = new Map(); // id -> Promise of the node (GET /nodes/{id})

// The node id (cached per page load of the module; a failed read is not
// cached). Rejects with the API's error.
export function nodeOf(id) {
	if (!nodes.has(id)) {
		const p = get(`/nodes/${enc(id)}`);
		nodes.set(id, p);
		p.catch(() => nodes.delete(id));
	}
	return nodes.get(id);
}

// Forget cached nodes (after a change elsewhere renamed or removed one).
export function forgetNodes() {
	nodes.clear();
}

// The node's name, or its id when the caller may not read it.
export async function nodeName(id) {
	if (id === 'root') return 'root';
	try {
		return (await nodeOf(id)).name;
	} catch (e) {
		return id;
	}
}

// The node id and what is below it the caller may list, depth first, at
// most max nodes: [{id, name, type, depth}]. Children that cannot be
// listed (403) end that branch.
export async function subtree(id, max = 300) {
	const top = await nodeOf(id);
	const out = [];
	async function walk(n, depth) {
		if (out.length >= max) return;
		out.push({ id: n.id, name: n.name, type: n.type, depth });
		if (n.type === 'team') return;
		let r;
		try {
			r = await get(`/nodes/${enc(n.id)}/children`);
		} catch (e) {
			return;
		}
		for (const c of r.children) await walk(c, depth + 1);
	}
	await walk(top, 0);
	return out;
}

// <option>s of a subtree, indented by depth, with the type.
export function nodeOptions(list, selected) {
	return list.map((n) => h('option', { value: n.id, selected: n.id === selected },
		`${'\u00a0\u00a0'.repeat(n.depth)}${n.name} (${n.type})`));
}

// The businesses where the caller holds perm: [{id, name}] (all businesses
// for a grant on root).
export async function businessesWith(perm) {
	const me = session.me;
	if (!me) return [];
	if (can(perm, ['root'])) {
		const r = await get('/nodes/root/children');
		return r.children.filter((c) => c.type === 'business').map((c) => ({ id: c.id, name: c.name }));
	}
	const ids = [...new Set(me.grants.filter((g) => g.permissions.includes(perm)).map((g) => g.node_id))];
	const out = [];
	for (const id of ids) {
		try {
			const n = await nodeOf(id);
			if (n.type === 'business') out.push({ id: n.id, name: n.name });
		} catch (e) {
			/* not readable: not offered */
		}
	}
	return out;
}

// The permissions a no-escalation refusal names ("… holds permissions you
// lack here: a, b (nobody grants …)"), or null for another error.
export function missingOf(err) {
	const m = /lack here: ([a-z_.]+(?:, [a-z_.]+)*)/.exec((err && err.message) || '');
	return m ? m[1].split(', ') : null;
}

// An error box for a refused action: "missing: …" first when the API named
// missing permissions, then the API's message.
export function refusal(err, prefix) {
	const miss = missingOf(err);
	const msg = err && err.message ? err.message : String(err);
	return h('div', { class: 'error', role: 'alert', dataset: { status: err && err.status ? err.status : '' } },
		miss ? h('p', { class: 'missing', dataset: { missing: miss.join(',') } }, `missing: ${miss.join(', ')}`) : '',
		h('p', { class: 'reason' }, prefix ? `${prefix}: ${msg}` : msg));
}

// A table whose rows are filtered by a text box and sorted by a click on a
// column's heading. cols: [{key, label, value(row) -> string|number for
// sort and filter, cell(row) -> node or text}]; opts: {id, rowAttrs(row),
// sort: key}. Returns {el, setRows(rows)}.
export function sortableTable(cols, opts = {}) {
	let rows = [];
	let sortKey = opts.sort || cols[0].key;
	let dir = 1;
	const filter = h('input', { type: 'search', class: 'filter', id: `${opts.id}-filter`, placeholder: 'filter', 'aria-label': 'filter rows' });
	const count = h('span', { class: 'muted', id: `${opts.id}-count` });
	const head = h('tr', {});
	const body = h('tbody', {});
	const table = h('table', { id: opts.id, class: 'sortable' }, h('thead', {}, head), body);
	function draw() {
		clear(head).append(...cols.map((c) => h('th', { dataset: { key: c.key }, 'aria-sort': c.key === sortKey ? (dir > 0 ? 'ascending' : 'descending') : 'none' },
			h('button', { type: 'button', class: 'link sort', onclick: () => { dir = c.key === sortKey ? -dir : 1; sortKey = c.key; draw(); } },
				c.label, c.key === sortKey ? (dir > 0 ? ' ▴' : ' ▾') : ''))));
		const col = cols.find((c) => c.key === sortKey) || cols[0];
		const q = filter.value.trim().toLowerCase();
		const shown = rows.filter((r) => !q || cols.some((c) => String(c.value(r) ?? '').toLowerCase().includes(q)));
		shown.sort((a, b) => {
			const x = col.value(a) ?? '', y = col.value(b) ?? '';
			return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
		});
		clear(body).append(...shown.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {}, cols.map((c) => h('td', { dataset: { key: c.key } }, c.cell ? c.cell(r) : String(c.value(r) ?? '—'))))));
		count.dataset.value = shown.length;
		count.textContent = `${shown.length} of ${rows.length} shown`;
	}
	filter.addEventListener('input', draw);
	draw();
	return {
		el: h('div', { class: 'sortable-wrap' }, h('div', { class: 'row' }, filter, count), table),
		setRows(r) {
			rows = r;
			draw();
		},
	};
}
