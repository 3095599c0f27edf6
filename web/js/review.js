// review.js - the access review of a node (#/review/<node id>): every grant
// on the node and below it (GET /api/v1/nodes/{id}/access-review) with the
// grantee, role, node, creator, date and the grantee's last sign-in,
// sortable and filterable, and the same rows as CSV (the .csv route,
// fetched with the token into a blob: download).
import { api, get } from './api.js';
import { clear, errorBox, fmtTime, h, link } from './dom.js';
import { nodeName, sortableTable } from './admin.js';

const enc = encodeURIComponent;

const COLS = (nodeId) => [
	{ key: 'grantee', label: 'grantee', value: (r) => r.name || r.login || r.user_id,
		cell: (r) => [link(`#/grants/${nodeId}/${r.user_id}`, r.name || r.user_id), r.login ? h('span', { class: 'muted' }, ` ${r.login}`) : ''] },
	{ key: 'role', label: 'role', value: (r) => r.role },
	{ key: 'node', label: 'node', value: (r) => r.node_path || 'root',
		cell: (r) => (r.node_id === 'root' ? 'root' : link(`#/node/${r.node_id}`, r.node_path || r.node_name)) },
	{ key: 'creator', label: 'granted by', value: (r) => (r.created_by ? r.created_by.login || r.created_by.id : '') },
	{ key: 'created', label: 'granted at (UTC)', value: (r) => r.created_at || '', cell: (r) => fmtTime(r.created_at) },
	{ key: 'signin', label: 'last sign-in (UTC)', value: (r) => r.last_sign_in || '', cell: (r) => (r.last_sign_in ? fmtTime(r.last_sign_in) : 'never') },
	{ key: 'state', label: 'state', value: (r) => (r.disabled ? 'disabled' : 'active') },
];

// Fetch the CSV with the bearer token and hand it to the browser as a file.
async function download(nodeId, msg) {
	clear(msg);
	try {
		const res = await api('GET', `/nodes/${enc(nodeId)}/access-review.csv`, { raw: true });
		const url = URL.createObjectURL(await res.blob());
		const a = h('a', { href: url, download: `access-review-${nodeId}.csv`, hidden: true });
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(url), 60000);
		if (res.headers.get('X-Truncated') === 'true') msg.append(h('p', { class: 'notice' }, 'The file holds the first 20 000 rows only: review a subtree for the rest.'));
	} catch (e) {
		msg.append(errorBox(e, 'No download'));
	}
}

export async function reviewView(nodeId) {
	const title = h('h1', {}, 'Access review');
	let r;
	try {
		r = await get(`/nodes/${enc(nodeId)}/access-review`);
	} catch (e) {
		return h('div', { id: 'review-page' }, title, errorBox(e, 'No access review'));
	}
	const label = await nodeName(nodeId);
	const t = sortableTable(COLS(nodeId), {
		id: 'review', sort: 'node',
		rowAttrs: (x) => ({ dataset: { user: x.user_id, role: x.role, node: x.node_id, creator: x.created_by ? x.created_by.login || '' : '' } }),
	});
	t.setRows(r.rows);
	const msg = h('div', { id: 'review-msg' });
	const csv = h('button', { type: 'button', id: 'review-csv', onclick: () => download(nodeId, msg) }, 'Download CSV');
	return h('div', { id: 'review-page', dataset: { id: nodeId } },
		title,
		h('p', { class: 'muted' }, 'Every grant on ', nodeId === 'root' ? 'root' : link(`#/node/${nodeId}`, label),
			' and below it. Each review is recorded in the audit log.'),
		r.truncated ? h('p', { class: 'notice', id: 'review-truncated' }, 'Only the first 20 000 grants are listed: review a node further down for the rest.') : '',
		h('section', { class: 'card' }, h('div', { class: 'row' }, h('span', { id: 'review-total', dataset: { value: r.rows.length } }, `${r.rows.length} grants`), csv), msg, t.el));
}
