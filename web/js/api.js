// api.js - the documented HTTP API (docs/API.md) with the bearer token kept
// in sessionStorage: it lives as long as the tab, never in localStorage.

const KEY = 'actlog.token';
const BASE = '/api/v1';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

export function token() {
	return sessionStorage.getItem(KEY);
}

export function setToken(t) {
	if (t) sessionStorage.setItem(KEY, t);
	else sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};
// Called when a signed-in request answers 401 (token expired or revoked).
export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

async function errorOf(res) {
	let msg = `${res.status} ${res.statusText}`;
	try {
		const j = await res.json();
		if (j && typeof j.error === 'string') msg = j.error;
	} catch (e) {
		/* not JSON: keep the status line */
	}
	return new ApiError(res.status, msg);
}

// One request. opts: {body: object (sent as JSON) | Blob, type, raw: true
// to get the Response (for images)}. Resolves to the parsed JSON (null for
// 204); rejects with ApiError carrying the API's `error` text.
export async function api(method, path, opts = {}) {
	const headers = {};
	const t = token();
	if (t) headers.Authorization = `Bearer ${t}`;
	let body;
	if (opts.body instanceof Blob) {
		body = opts.body;
		headers['Content-Type'] = opts.type || opts.body.type;
	} else if (opts.body !== undefined) {
		body = JSON.stringify(opts.body);
		headers['Content-Type'] = 'application/json';
	}
	let res;
	try {
		res = await fetch(BASE + path, { method, headers, body, cache: 'no-store', credentials: 'omit' });
	} catch (e) {
		throw new ApiError(0, `the server cannot be reached (${e.message})`);
	}
	if (!res.ok) {
		const err = await errorOf(res);
		if (res.status === 401 && t && !opts.noRedirect) onUnauthorized(err);
		throw err;
	}
	if (opts.raw) return res;
	if (res.status === 204) return null;
	return res.json();
}

export const get = (p, o) => api('GET', p, o);
export const post = (p, body, o = {}) => api('POST', p, { ...o, body });
export const put = (p, body, o = {}) => api('PUT', p, { ...o, body });
export const del = (p, o) => api('DELETE', p, o);

// Query string from an object, skipping empty values.
export function qs(o) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
	const s = p.toString();
	return s ? `?${s}` : '';
}

// An image route (screenshot, avatar) as an object URL for <img src>; the
// caller revokes it. Goes through fetch so the token is sent as a header.
export async function blobUrl(path) {
	const res = await api('GET', path, { raw: true });
	return URL.createObjectURL(await res.blob());
}
