// SPDX-License-Identifier: GPL-2.0
// push/transports.js - the three transports as the engine sees them.  Each
// open function takes the engine's handlers (url, open, item, next,
// activity, close: see engine.js) and returns {close()}; it reports
// everything through the handlers and nothing after close().  g is the
// global object, so node's test runner can run the fetch-based ones against
// a local server.

import { SseParser } from './sse.js';
import { statsUrl } from './url.js';

/**
 * The WebSocket subprotocols the client asks for: pushd's push.v1 adds a
 * {"type":"hb"} text frame every --heartbeat seconds (its pings are
 * invisible to scripts), so open() reports heartbeats when pushd echoes it
 * and the silence deadline covers WebSocket too.  pushd refuses other
 * subprotocols with a 400; one that speaks none (before push.v1) still
 * works if this is emptied.
 */
export const WS_PROTOCOLS = Object.freeze(['push.v1']);

/** An HTTP error answer as a close: 400 (a request pushd will never take) is fatal. */
async function httpError(res, what) {
	let text = '';
	try {
		text = (await res.text()).slice(0, 200).trim();
	} catch (e) {
		// the reason is the status
	}
	return { reason: `${what}: HTTP ${res.status}${text ? ' ' + text : ''}`, status: res.status,
		fatal: res.status === 400 };
}

function websocket(h, p, g) {
	let ws;
	try {
		ws = new g.WebSocket(h.url(), WS_PROTOCOLS);
	} catch (e) {
		Promise.resolve().then(() => h.close({ reason: 'websocket: ' + e.message }));
		return { close() {} };
	}
	ws.onopen = () => h.open({ heartbeats: ws.protocol === 'push.v1' });
	ws.onmessage = (e) => {
		if (typeof e.data === 'string')
			h.item(e.data);
		else
			h.activity();
	};
	// A close frame from pushd (1001 shutdown, 1008 slow consumer, ...) is a
	// goodbye; 1006 is a connection that just broke, or never upgraded.
	ws.onclose = (e) => h.close({ reason: `websocket closed ${e.code}${e.reason ? ' ' + e.reason : ''}`,
		code: e.code, server: e.wasClean });
	ws.onerror = () => {};	// onclose follows, with the code
	return {
		close() {
			ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
			try {
				ws.close(1000);
			} catch (e) {
				// already closing
			}
		},
	};
}

function sse(h, p, g) {
	const ctl = new g.AbortController();
	let done = false;
	const end = (info) => {
		if (!done) {
			done = true;
			ctl.abort();
			h.close(info);
		}
	};
	(async () => {
		let res;
		try {
			res = await g.fetch(h.url(), { headers: { Accept: 'text/event-stream' },
				cache: 'no-store', signal: ctl.signal });
		} catch (e) {
			return end({ reason: 'sse: ' + e.message });
		}
		if (done)
			return;
		if (res.status !== 200)
			return end(await httpError(res, 'sse'));
		const type = res.headers.get('content-type') || '';
		if (!type.startsWith('text/event-stream') || !res.body)
			return end({ reason: `sse: not an event stream (${type})` });
		const reader = res.body.getReader();
		const dec = new g.TextDecoder();
		const parser = new SseParser();
		let opened = false;
		try {
			for (;;) {
				const { value, done: eof } = await reader.read();
				if (done)
					return;
				if (eof)
					break;
				// The open is the first bytes, not the headers: a proxy
				// that buffers the stream sends the headers alone.
				if (!opened) {
					opened = true;
					h.open({});
				} else {
					h.activity();
				}
				for (const r of parser.feed(dec.decode(value, { stream: true }))) {
					if (done)
						return;
					if (r.type !== 'event')
						continue;
					if (r.event === 'close')
						return end({ reason: 'sse closed: ' + closeReason(r.data), server: true });
					if (r.event === 'message' || r.event === 'gap')
						h.item(r.data);
				}
			}
		} catch (e) {
			return end({ reason: 'sse: ' + e.message });
		}
		end({ reason: 'sse: stream ended' });
	})();
	return {
		close() {
			done = true;
			ctl.abort();
		},
	};
}

function closeReason(data) {
	try {
		const r = JSON.parse(data).reason;
		if (typeof r === 'string')
			return r;
	} catch (e) {
		// not JSON: the text is the reason
	}
	return String(data).slice(0, 100);
}

/**
 * Long-polling: one request after the other, each from the cursor.  A poll
 * that answers says the transport works; so does one still waiting after
 * openAfter ms (pushd holds a poll until a message or --poll-timeout), since
 * a refused or broken request fails sooner than that.
 */
function longpoll(h, p, g) {
	let done = false;
	let opened = false;
	let ctl = null;
	const openAfter = Math.min(1000, p.connectTimeout / 2);
	const open = () => {
		if (!opened && !done) {
			opened = true;
			g.clearTimeout(timer);
			h.open({});
		}
	};
	const timer = g.setTimeout(open, openAfter);
	const end = (info) => {
		if (!done) {
			done = true;
			g.clearTimeout(timer);
			if (ctl)
				ctl.abort();
			h.close(info);
		}
	};
	(async () => {
		while (!done) {
			ctl = new g.AbortController();
			let body;
			try {
				const res = await g.fetch(h.url(), { headers: { Accept: 'application/json' },
					cache: 'no-store', signal: ctl.signal });
				if (done)
					return;
				if (res.status !== 200)
					return end(await httpError(res, 'long-poll'));
				body = await res.json();
			} catch (e) {
				return end({ reason: 'long-poll: ' + e.message });
			}
			if (done)
				return;
			if (!body || !Array.isArray(body.messages))
				return end({ reason: 'long-poll: not a {"messages": [...]} answer' });
			open();
			h.activity();
			for (const m of body.messages) {
				if (done)
					return;
				h.item(m);
			}
			if (!done)
				h.next(body.next);
		}
	})();
	return {
		close() {
			done = true;
			g.clearTimeout(timer);
			if (ctl)
				ctl.abort();
		},
	};
}

const OPEN = { websocket, sse, longpoll };

/** Start transport name (see engine.js env.open). */
export function openTransport(name, h, params, g = globalThis) {
	return OPEN[name](h, params, g);
}

/**
 * "Now" as a message id: GET /stats's last_id, so that the first connection
 * resumes exactly even if it breaks before its first message.  Rejects with
 * e.fatal set when the server answers 4xx (a proxy that hides /stats).
 */
export async function pinNow(base, timeoutMs, g = globalThis) {
	const ctl = new g.AbortController();
	const timer = g.setTimeout(() => ctl.abort(), timeoutMs);
	try {
		const res = await g.fetch(statsUrl(base), { cache: 'no-store', signal: ctl.signal });
		if (res.status >= 400 && res.status < 500) {
			const e = new Error(`GET ${statsUrl(base)}: HTTP ${res.status}`);
			e.fatal = true;
			throw e;
		}
		if (res.status !== 200)
			throw new Error(`GET ${statsUrl(base)}: HTTP ${res.status}`);
		const id = (await res.json()).last_id;
		if (!Number.isSafeInteger(id) || id < 0) {
			const e = new Error(`GET ${statsUrl(base)}: no last_id`);
			e.fatal = true;
			throw e;
		}
		return id;
	} finally {
		g.clearTimeout(timer);
	}
}
