// machines.js - the machines of a node (#/machines/<node id>) and one
// machine (#/machine/<device id>): what each device last reported in its
// sysinfo and agent records (GET /devices, /devices/{id},
// /devices/{id}/sysinfo), its history as small charts and its changes, and
// revoking a device (device.write).
import { get, post, qs } from './api.js';
import { card, clear, errorBox, fmtBytes, h, link } from './dom.js';
import { can } from './session.js';
import { lineChart } from './linechart.js';
import { defaultZone, fmtAt } from './zone.js';

const enc = encodeURIComponent;
const ONLINE_MS = 10 * 60 * 1000; // last seen this recently: "online"
const DETAIL_MAX = 100; // devices of a list whose sysinfo is fetched

// Small caches of names and paths for the lifetime of a page.
function cached(fn) {
	const m = new Map();
	return (id) => {
		if (!m.has(id)) m.set(id, fn(id).catch(() => null));
		return m.get(id);
	};
}

function rootFs(si) {
	if (!si || !Array.isArray(si.filesystems)) return null;
	return si.filesystems.find((f) => f && f.mount === '/') || null;
}

function num(v) {
	return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

// A cell with the raw API number in data-value and the formatted text.
function numCell(cls, v, fmt = fmtBytes) {
	const n = num(v);
	return h('td', { class: `num ${cls}`, dataset: { value: n === null ? '' : n } }, n === null ? '—' : fmt(n));
}

function sourcesText(agent) {
	const src = agent && agent.sources;
	if (!src) return '—';
	return `input ${src.input || '?'}, processes ${src.proc || '?'}`;
}

function osText(si) {
	return (si && si.os && (si.os.pretty_name || si.os.name)) || '—';
}

function stateOf(d) {
	return d.revoked ? 'revoked' : d.pending ? 'pending' : 'active';
}

function lastSeenCell(d, tz) {
	const t = d.last_seen ? Date.parse(d.last_seen) : NaN;
	const online = !d.revoked && Number.isFinite(t) && Date.now() - t < ONLINE_MS;
	return h('td', { class: 'last-seen', dataset: { value: d.last_seen || '' } }, fmtAt(d.last_seen, tz),
		online ? h('span', { class: 'online' }, 'online') : '');
}

// A Revoke button (with a confirm dialog) that calls done(view) afterwards.
function revokeButton(d, done, msg) {
	const btn = h('button', { type: 'button', class: 'revoke', disabled: d.revoked }, d.revoked ? 'Revoked' : 'Revoke');
	btn.addEventListener('click', async () => {
		if (!window.confirm(`Revoke ${d.hostname} (${d.id})? Its token stops working at once; its records stay. This cannot be undone.`)) return;
		btn.disabled = true;
		try {
			done(await post(`/devices/${enc(d.id)}/revoke`));
		} catch (e) {
			btn.disabled = false;
			clear(msg).append(errorBox(e, 'Not revoked'));
		}
	});
	return btn;
}

export async function machinesView(nodeId) {
	const tz = defaultZone();
	const msg = h('div', { id: 'machines-msg' });
	let r;
	try {
		r = await get(`/devices${qs({ node_id: nodeId })}`);
	} catch (e) {
		return h('div', { id: 'machines-page' }, h('h1', {}, 'Machines'), errorBox(e, 'The machines cannot be shown'));
	}
	const nodeOf = cached((id) => get(`/nodes/${enc(id)}`));
	const userOf = cached((id) => get(`/users/${enc(id)}`));
	let title = 'Machines';
	if (nodeId !== 'root') {
		const n = await nodeOf(nodeId);
		if (n) title = `Machines of ${n.name}`;
	}
	const devices = r.devices.slice().sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
	const rows = devices.map((d, i) => {
		const tr = h('tr', { dataset: { id: d.id, state: stateOf(d) } });
		const owner = h('td', { class: 'owner' }, d.owner_id ? link(`#/user/${d.owner_id}`, d.owner_id) : '—');
		const team = h('td', { class: 'team' }, link(`#/machines/${d.team_id}`, d.team_id));
		const cells = {
			os: h('td', { class: 'os' }, '…'), kernel: h('td', { class: 'kernel' }, '…'),
			agent: h('td', { class: 'agent-version' }, d.agent_version), sources: h('td', { class: 'sources' }, '…'),
			disk: h('td', { class: 'num disk' }, '…'), mem: h('td', { class: 'num mem' }, '…'),
		};
		const action = h('td', { class: 'action' });
		const state = h('td', { class: 'state' }, stateOf(d));
		tr.append(h('td', { class: 'hostname' }, link(`#/machine/${d.id}`, d.hostname)), owner, team, cells.os, cells.kernel,
			cells.agent, cells.sources, lastSeenCell(d, tz), cells.disk, cells.mem, state, action);
		if (d.owner_id) userOf(d.owner_id).then((u) => { if (u) owner.firstChild.textContent = u.name || u.email; });
		nodeOf(d.team_id).then((n) => {
			if (!n) return;
			team.firstChild.textContent = n.name;
			if (can('device.write', n.path))
				action.append(revokeButton(d, (v) => { state.textContent = stateOf(v); tr.dataset.state = stateOf(v); clear(action).append(revokeButton(v, () => {}, msg)); }, msg));
		});
		if (i < DETAIL_MAX) {
			get(`/devices/${enc(d.id)}/sysinfo${qs({ from: new Date(Date.now() - 3600e3).toISOString() })}`).then((x) => {
				const si = x.latest, fs = rootFs(si);
				clear(cells.os).append(osText(si));
				clear(cells.kernel).append((si && si.kernel && si.kernel.release) || '—');
				if (x.agent && x.agent.version) clear(cells.agent).append(x.agent.version);
				clear(cells.sources).append(sourcesText(x.agent));
				cells.disk.replaceWith(cells.disk = numCell('disk', fs ? fs.avail : null));
				cells.mem.replaceWith(cells.mem = numCell('mem', si && si.memory ? si.memory.available : null));
			}, (e) => {
				for (const c of Object.values(cells)) if (c.textContent === '…') c.textContent = '—';
				if (e.status !== 403) clear(cells.os).append(errorBox(e));
			});
		} else {
			for (const c of Object.values(cells)) if (c.textContent === '…') c.textContent = '';
		}
		return tr;
	});
	const head = ['hostname', 'owner', 'team', 'OS', 'kernel', 'agent', 'sources', `last seen (${tz})`, 'root fs free', 'memory available', 'state', '']
		.map((t) => h('th', { class: /free|available/.test(t) ? 'num' : undefined }, t));
	return h('div', { id: 'machines-page', dataset: { node: nodeId } },
		h('h1', {}, title),
		card(`${devices.length} machine${devices.length === 1 ? '' : 's'}`,
			h('p', { class: 'muted' }, `From each machine's latest sysinfo and agent records; "online" when it was seen in the last ${ONLINE_MS / 60000} minutes. Free space is what users may still write on the root file system (avail).`),
			msg,
			devices.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'machines' }, h('tr', {}, head), rows)) : h('p', { class: 'muted' }, 'No machine here.'),
			r.truncated ? h('p', { class: 'notice' }, 'Only the first 1000 are listed.') : '',
			devices.length > DETAIL_MAX ? h('p', { class: 'notice' }, `Details are shown for the first ${DETAIL_MAX}.`) : ''));
}

// --- one machine ---

function factsCard(d, x, tz) {
	const si = x.latest, ag = x.agent;
	const rows = [];
	const row = (k, v, raw) => rows.push(h('tr', { dataset: { k } }, h('th', {}, k), h('td', { dataset: { value: raw === undefined ? '' : raw } }, v)));
	const cpu = (si && si.cpu) || {}, mem = (si && si.memory) || {}, kern = (si && si.kernel) || {};
	row('hostname', (si && si.hostname) || d.hostname);
	row('OS', osText(si));
	row('kernel', [kern.release, kern.arch].filter(Boolean).join(' ') || '—', kern.release || '');
	row('CPU', cpu.model || '—');
	row('CPU threads', num(cpu.threads) === null ? '—' : String(cpu.threads), num(cpu.threads) ?? '');
	if (Array.isArray(cpu.load)) row('load (1, 5, 15 min)', cpu.load.join(', '));
	if (num(cpu.usage_pct) !== null) row('CPU usage', `${cpu.usage_pct} %`, cpu.usage_pct);
	row('memory', num(mem.total) === null ? '—' : fmtBytes(mem.total), num(mem.total) ?? '');
	row('memory available', num(mem.available) === null ? '—' : fmtBytes(mem.available), num(mem.available) ?? '');
	if (num(mem.swap_total)) row('swap free', `${fmtBytes(mem.swap_free)} of ${fmtBytes(mem.swap_total)}`, mem.swap_free);
	row('boot time', fmtAt(si && si.boot_time, tz));
	row('agent', ag && ag.version ? ag.version : `${d.agent_version} (at enrollment)`, ag && ag.version ? ag.version : d.agent_version);
	row('sources', sourcesText(ag));
	row('reported', fmtAt(si && si.ts, tz, true), (si && si.ts) || '');
	const fss = si && Array.isArray(si.filesystems) ? si.filesystems : [];
	const fsRows = fss.map((f) => h('tr', { dataset: { mount: f.mount } },
		h('td', {}, f.mount), h('td', {}, f.source || ''), h('td', {}, f.fstype || ''),
		numCell('total', f.total), numCell('free', f.free), numCell('avail', f.avail),
		h('td', { class: 'num' }, num(f.total) && num(f.avail) !== null ? `${Math.round((100 * (f.total - f.avail)) / f.total)} %` : f.error || '—')));
	return card('Latest facts',
		si ? '' : h('p', { class: 'muted' }, 'This machine has sent no sysinfo yet.'),
		h('table', { id: 'facts', class: 'facts' }, rows),
		h('h2', {}, 'File systems'),
		fsRows.length ? h('table', { id: 'filesystems' }, h('tr', {}, ['mount', 'source', 'type', 'size', 'free', 'available', 'used'].map((t, i) => h('th', { class: i >= 3 ? 'num' : undefined }, t))), fsRows)
			: h('p', { class: 'muted' }, 'No file systems reported.'),
		si && si.filesystems_more ? h('p', { class: 'notice' }, `${si.filesystems_more} more file systems were not sent.`) : '');
}

// The value a change record names, as text.
function changedValue(rec, what) {
	if (!rec) return '—';
	switch (what) {
	case 'hostname': return rec.hostname || '—';
	case 'os': return osText(rec);
	case 'kernel': return (rec.kernel && rec.kernel.release) || '—';
	case 'cpus': return rec.cpu && num(rec.cpu.online) !== null ? `${rec.cpu.online} online` : rec.cpu && num(rec.cpu.threads) !== null ? `${rec.cpu.threads} threads` : '—';
	case 'memory': return rec.memory && num(rec.memory.total) !== null ? fmtBytes(rec.memory.total) : '—';
	case 'swap': return rec.memory && num(rec.memory.swap_total) !== null ? fmtBytes(rec.memory.swap_total) : '—';
	case 'filesystems': return Array.isArray(rec.filesystems) ? rec.filesystems.map((f) => f.mount).join(' ') : '—';
	default: return '—';
	}
}

function changesCard(history, tz) {
	const rows = [];
	history.forEach((rec, i) => {
		if (rec.reason !== 'change') return;
		const prev = i > 0 ? history[i - 1] : null;
		const names = Array.isArray(rec.changed) ? rec.changed : [];
		for (const what of names.length ? names : ['?'])
			rows.push(h('tr', { dataset: { ts: rec.ts, what } },
				h('td', {}, fmtAt(rec.ts, tz, true)), h('td', { class: 'what' }, what),
				h('td', { class: 'before' }, prev ? changedValue(prev, what) : '—'), h('td', { class: 'after' }, changedValue(rec, what))));
	});
	return card('Changes',
		rows.length ? h('table', { id: 'changes' }, h('tr', {}, [`when (${tz})`, 'what', 'before', 'after'].map((t) => h('th', {}, t))), rows.reverse())
			: h('p', { class: 'muted', id: 'no-changes' }, 'No change reported in this range.'));
}

function chartsCard(history, from, to) {
	const pts = (fn) => history.map((r) => [Date.parse(r.ts), fn(r)]);
	const mounts = [];
	for (const r of history) for (const f of (Array.isArray(r.filesystems) ? r.filesystems : [])) if (f && f.mount && !mounts.includes(f.mount)) mounts.push(f.mount);
	const disk = mounts.slice(0, 6).map((m) => ({ name: m, points: pts((r) => {
		const f = Array.isArray(r.filesystems) ? r.filesystems.find((x) => x && x.mount === m) : null;
		return f ? num(f.avail) : null;
	}) }));
	const mem = [{ name: 'available', points: pts((r) => (r.memory ? num(r.memory.available) : null)) }];
	const cpu = [{ name: 'CPU usage', points: pts((r) => (r.cpu ? num(r.cpu.usage_pct) : null)) }];
	return h('div', { id: 'machine-charts' },
		card('Free disk per file system', lineChart(disk, { from, to, fmt: fmtBytes, label: 'free disk per file system', id: 'chart-disk' })),
		card('Available memory', lineChart(mem, { from, to, fmt: fmtBytes, label: 'available memory', id: 'chart-mem' })),
		card('CPU usage', lineChart(cpu, { from, to, max: 100, fmt: (v) => `${v} %`, label: 'CPU usage in percent', id: 'chart-cpu' })));
}

export async function machineView(id) {
	const tz = defaultZone();
	let d;
	try {
		d = await get(`/devices/${enc(id)}`);
	} catch (e) {
		return h('div', { id: 'machine-page' }, h('h1', {}, 'Machine'), errorBox(e, 'This machine cannot be shown'));
	}
	const days = h('select', { id: 'machine-days' }, [1, 7, 30, 90].map((n) => h('option', { value: n, selected: n === 7 }, n === 1 ? 'last day' : `last ${n} days`)));
	const body = h('div', { id: 'machine-body' });
	const msg = h('div', { id: 'machine-msg' });
	const state = h('span', { class: 'state', id: 'machine-state' }, stateOf(d));
	const head = h('p', { class: 'row' }, 'Team: ', link(`#/machines/${d.team_id}`, d.team_id), ' · owner: ',
		d.owner_id ? link(`#/user/${d.owner_id}`, d.owner_id) : '—', ' · last seen ', fmtAt(d.last_seen, tz), ' · state: ', state);
	get(`/nodes/${enc(d.team_id)}`).then((n) => {
		head.children[0].textContent = n.name;
		if (can('device.write', n.path) && !d.revoked)
			head.append(revokeButton(d, (v) => { state.textContent = stateOf(v); }, msg));
	}, () => {});
	if (d.owner_id) get(`/users/${enc(d.owner_id)}`).then((u) => { head.children[1].textContent = u.name || u.email; }, () => {});
	async function load() {
		clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
		const to = Date.now(), from = to - Number(days.value) * 86400e3;
		try {
			const x = await get(`/devices/${enc(d.id)}/sysinfo${qs({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })}`);
			clear(body).append(
				factsCard(d, x, tz),
				x.truncated ? h('p', { class: 'notice' }, 'More records matched than are drawn (the first 1000): narrow the range.') : '',
				chartsCard(x.history, from, to),
				changesCard(x.history, tz));
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	days.addEventListener('change', load);
	await load();
	return h('div', { id: 'machine-page', dataset: { id: d.id } },
		h('h1', {}, d.hostname, h('span', { class: 'type' }, d.id)), head, msg,
		h('div', { class: 'row' }, 'History:', days, `(times in ${tz})`), body);
}
