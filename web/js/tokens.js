// tokens.js - one's personal API tokens (#/me/tokens): make one (name,
// scopes among the permissions one holds, expiry), shown once with a copy
// button and a curl example; the list (GET /me/tokens) and revoking.
import { del, get, post } from './api.js';
import { card, clear, errorBox, h } from './dom.js';
import { session } from './session.js';
import { defaultZone, fmtAt } from './zone.js';

const enc = encodeURIComponent;

// The permissions the signed-in user holds on some node, sorted.
function heldPermissions() {
	const set = new Set();
	for (const g of session.me.grants) for (const p of g.permissions) set.add(p);
	return [...set].sort();
}

function copyButton(text, id) {
	const btn = h('button', { type: 'button', id }, 'Copy');
	btn.addEventListener('click', async () => {
		try {
			await navigator.clipboard.writeText(text);
			btn.textContent = 'Copied';
		} catch (e) {
			btn.textContent = 'Copy failed: select the text';
		}
	});
	return btn;
}

export async function tokensView() {
	const tz = defaultZone();
	const perms = heldPermissions();
	const name = h('input', { type: 'text', id: 'token-name', maxlength: 64, required: true, placeholder: 'e.g. nightly export' });
	const boxes = perms.map((p) => h('label', { class: 'scope' }, h('input', { type: 'checkbox', value: p, dataset: { scope: p } }), ' ', p));
	const days = h('input', { type: 'number', id: 'token-days', min: 1, max: 365, value: 90 });
	const shown = h('div', { id: 'token-shown' });
	const msg = h('div', { id: 'token-msg' });
	const list = h('div', { id: 'token-list' });

	async function load() {
		try {
			const r = await get('/me/tokens');
			const rows = r.tokens.map((t) => {
				const btn = h('button', { type: 'button', class: 'revoke' }, 'Revoke');
				btn.addEventListener('click', async () => {
					if (!window.confirm(`Revoke the token "${t.name}"? Whatever uses it gets 401 from now on.`)) return;
					btn.disabled = true;
					try {
						await del(`/me/tokens/${enc(t.id)}`);
						await load();
					} catch (e) {
						btn.disabled = false;
						list.append(errorBox(e, 'Not revoked'));
					}
				});
				return h('tr', { dataset: { id: t.id } }, h('td', { class: 'name' }, t.name), h('td', { class: 'scopes' }, t.scopes.join(', ')),
					h('td', { dataset: { value: t.created_at } }, fmtAt(t.created_at, tz)),
					h('td', { dataset: { value: t.expires_at } }, fmtAt(t.expires_at, tz)),
					h('td', { class: 'last-used', dataset: { value: t.last_used_at || '' } }, t.last_used_at ? fmtAt(t.last_used_at, tz) : 'never'),
					h('td', {}, btn));
			});
			clear(list).append(rows.length
				? h('table', { id: 'tokens' }, h('tr', {}, ['name', 'scopes', `created (${tz})`, 'expires', 'last used', ''].map((x) => h('th', {}, x))), rows)
				: h('p', { class: 'muted' }, 'No personal token.'));
		} catch (e) {
			clear(list).append(errorBox(e));
		}
	}

	const create = h('button', { type: 'submit', class: 'primary', id: 'token-create' }, 'Create the token');
	const form = h('form', { id: 'token-form' },
		h('label', { class: 'row' }, 'Name', name),
		h('fieldset', { class: 'scopes' }, h('legend', {}, 'Scopes (what the token may do, among your permissions)'), boxes),
		h('label', { class: 'row' }, 'Expires in', days, 'days (1 to 365)'),
		h('div', { class: 'row' }, create), msg);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clear(msg);
		clear(shown);
		const scopes = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
		const n = Number(days.value);
		if (!scopes.length) { msg.append(errorBox('Pick at least one scope.')); return; }
		if (!Number.isInteger(n) || n < 1 || n > 365) { msg.append(errorBox('The expiry is a whole number of days, 1 to 365.')); return; }
		try {
			const r = await post('/me/tokens', { name: name.value, scopes, expires_in_s: n * 86400 });
			const example = `curl -H "Authorization: Bearer ${r.token}" ${location.origin}/api/v1/me`;
			shown.append(h('p', { class: 'notice' }, `The token "${r.name}" is shown this once: copy it now. It expires ${fmtAt(r.expires_at, tz)} (${tz}).`),
				h('div', { class: 'row' }, h('code', { class: 'secret-once', id: 'token-value' }, r.token), copyButton(r.token, 'token-copy')),
				h('p', {}, 'Try it:'),
				h('div', { class: 'row' }, h('code', { class: 'secret-once', id: 'token-curl' }, example), copyButton(example, 'token-curl-copy')));
			name.value = '';
			for (const b of boxes) b.querySelector('input').checked = false;
			await load();
		} catch (e) {
			msg.append(errorBox(e, 'Not created'));
		}
	});
	await load();
	return h('div', { id: 'tokens-page' }, h('h1', {}, 'Personal API tokens'),
		card('New token',
			h('p', { class: 'muted' }, 'A token acts as you, limited to its scopes, for scripts and integrations. It cannot make other tokens. At most 20 live tokens.'),
			perms.length ? form : h('p', { class: 'muted' }, 'You hold no permission a token could carry.'), shown),
		card('Your tokens', list));
}
