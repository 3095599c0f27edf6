// session.js - who is signed in (GET /api/v1/me) and what their grants let
// them do. The API decides every request; this only chooses what to offer.

export const session = { me: null };

// True when a grant carrying perm sits on a node of path (ids from root
// down to the object, as the API's node `path`).
export function can(perm, path) {
	const me = session.me;
	if (!me) return false;
	return me.grants.some((g) => g.permissions.includes(perm) && path.includes(g.node_id));
}

// True when perm is granted on some node.
export function canSomewhere(perm) {
	const me = session.me;
	return !!me && me.grants.some((g) => g.permissions.includes(perm));
}
