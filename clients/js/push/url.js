// SPDX-License-Identifier: GPL-2.0
// push/url.js - pushd's URLs (docs/HTTP.md): one URL per channel list,
// /sub/a,b?since=N, with the scheme chosen by the transport.  Pure: no I/O,
// no browser globals, so node's test runner drives it directly.

/** One channel name: 1-64 characters of [A-Za-z0-9_.:-]. */
export const CHANNEL_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** pushd takes at most this many channels per subscription. */
export const MAX_CHANNELS = 64;
/** The transports, in the order the client prefers them by default. */
export const TRANSPORTS = Object.freeze(['websocket', 'sse', 'longpoll']);

/**
 * The channel list as pushd will see it: duplicates dropped, order kept.
 * Accepts an array or a comma-separated string; throws a TypeError that says
 * what is wrong, so a bad name fails in the constructor, not as a 400 later.
 */
export function normChannels(channels) {
	const list = typeof channels === 'string' ? channels.split(',') : channels;
	if (!Array.isArray(list) || list.length === 0)
		throw new TypeError('push: channels must be a non-empty array of names');
	const out = [];
	for (const c of list) {
		if (typeof c !== 'string' || !CHANNEL_RE.test(c))
			throw new TypeError(`push: bad channel name ${JSON.stringify(c)}: ` +
				'1-64 characters of [A-Za-z0-9_.:-]');
		if (!out.includes(c))
			out.push(c);
	}
	if (out.length > MAX_CHANNELS)
		throw new TypeError(`push: ${out.length} channels, at most ${MAX_CHANNELS}`);
	return out;
}

/** The transport list, checked: known names, no duplicates, at least one. */
export function normTransports(transports) {
	const list = transports === undefined ? TRANSPORTS : transports;
	if (!Array.isArray(list) || list.length === 0)
		throw new TypeError('push: transports must be a non-empty array');
	for (const t of list)
		if (!TRANSPORTS.includes(t))
			throw new TypeError(`push: unknown transport ${JSON.stringify(t)} ` +
				`(${TRANSPORTS.join(', ')})`);
	if (new Set(list).size !== list.length)
		throw new TypeError('push: a transport is listed twice');
	return [...list];
}

/**
 * A start position as pushd's ?since= takes it: null (only new messages),
 * 'oldest', or a message id (a non-negative safe integer).
 */
export function normSince(since) {
	if (since === undefined || since === null)
		return null;
	if (since === 'oldest')
		return since;
	if (Number.isSafeInteger(since) && since >= 0)
		return since;
	throw new TypeError(`push: bad since ${JSON.stringify(since)}: a message id or "oldest"`);
}

/**
 * The absolute base URL, without a trailing slash.  A relative base is
 * resolved against origin (the page's location in a browser); '' is the
 * page's origin itself.
 */
export function normBase(base, origin) {
	let u;
	try {
		u = new URL(base === undefined || base === '' ? '/' : String(base), origin);
	} catch (e) {
		throw new TypeError(`push: bad base URL ${JSON.stringify(base)}`);
	}
	if (u.protocol !== 'http:' && u.protocol !== 'https:')
		throw new TypeError(`push: base URL must be http(s), not ${u.protocol}`);
	u.search = '';
	u.hash = '';
	return u.href.replace(/\/+$/, '');
}

/**
 * The URL of one subscription: GET BASE/sub/CH,CH[?since=S].  The websocket
 * transport gets ws: or wss:.  since is what normSince() returns.
 */
export function subUrl(base, channels, transport, since) {
	let url = `${base}/sub/${channels.join(',')}`;
	if (since !== null && since !== undefined)
		url += `?since=${since}`;
	if (transport === 'websocket')
		url = url.replace(/^http/, 'ws');
	return url;
}

/** GET BASE/stats: its last_id pins "now" before the first connection. */
export function statsUrl(base) {
	return `${base}/stats`;
}

/**
 * A key naming one subscription across the tabs of an origin: tabs with the
 * same base and the same set of channels share one connection.
 */
export function shareKey(base, channels) {
	return `push:${base}|${[...channels].sort().join(',')}`;
}
