// SPDX-License-Identifier: GPL-2.0
// push.js - the browser client of pushd (docs/HTTP.md), an ES module with no
// dependencies.
//
//   import { PushClient } from '/push.js';
//   const sub = new PushClient('', { channels: ['chat'] });
//   sub.on('message', (m) => console.log(m.id, m.data));
//
// It subscribes over WebSocket, SSE or long-polling, the best that works
// through whatever sits between the page and pushd, comes back to a better
// one later, resumes from the last id across reconnects and switches, and
// shares one connection between the tabs of an origin.  The parts live in
// push/: url.js (URLs), cursor.js (resume bookkeeping), sse.js (the event
// stream parser), backoff.js, engine.js (the transport state machine),
// transports.js (the three transports), tabs.js (leader election, relay).
// clients/js/README.md documents the API.

import { Backoff } from './push/backoff.js';
import { Cursor } from './push/cursor.js';
import { Engine } from './push/engine.js';
import { TabLink } from './push/tabs.js';
import { openTransport, pinNow } from './push/transports.js';
import { normBase, normChannels, normSince, normTransports, shareKey } from './push/url.js';

export { WS_PROTOCOLS } from './push/transports.js';

const EVENTS = ['message', 'gap', 'reset', 'open', 'close', 'error', 'role'];

/** Every event of a PushClient: an Event with its detail as own fields. */
export class PushEvent extends Event {
	constructor(type, detail) {
		super(type);
		Object.assign(this, detail);
	}
}

function num(v, name, min) {
	if (typeof v !== 'number' || !(v >= min) || !Number.isFinite(v))
		throw new TypeError(`push: ${name} must be a number >= ${min}`);
	return v;
}

export class PushClient extends EventTarget {
	/**
	 * base: pushd's URL ('' or '/prefix' for the page's own origin).
	 * options: channels (required), transports (default websocket, sse,
	 * longpoll), since (a message id or 'oldest'; default: only new
	 * messages), shared (default true: one connection for all tabs),
	 * election ('auto', 'locks', 'broadcast'), connectTimeout (ms, 10000),
	 * heartbeat and pollTimeout (pushd's --heartbeat and --poll-timeout, in
	 * s: 15 and 30), upgradeMin, upgradeMax (ms: 10000, 600000),
	 * backoffMin, backoffMax (ms: 1000, 30000).
	 */
	constructor(base, options = {}) {
		super();
		const g = options.globals || globalThis;
		const o = {
			connectTimeout: 10000, heartbeat: 15, pollTimeout: 30, upgradeMin: 10000,
			upgradeMax: 600000, backoffMin: 1000, backoffMax: 30000, shared: true,
			election: 'auto', ...options,
		};
		this.g = g;
		this.base = normBase(base, g.location ? g.location.href : undefined);
		this.channels = normChannels(o.channels);
		this.transports = normTransports(o.transports);
		for (const k of ['connectTimeout', 'upgradeMin', 'upgradeMax', 'backoffMin', 'backoffMax'])
			num(o[k], k, 1);
		num(o.heartbeat, 'heartbeat', 1);
		num(o.pollTimeout, 'pollTimeout', 1);
		if (!['auto', 'locks', 'broadcast'].includes(o.election))
			throw new TypeError('push: election is "auto", "locks" or "broadcast"');
		this.opts = o;
		this.cursor = new Cursor(normSince(o.since));
		this.engine = null;
		this.link = null;
		this.leader = false;
		this.closed = false;
		this.remote = { state: 'connecting', transport: null };	// the leader's, as relayed
		for (const t of EVENTS) {
			const f = o['on' + t];
			if (typeof f === 'function')
				this.addEventListener(t, f);
		}
		this.listen();
		// Start after the constructor returns, so listeners added right
		// after it see every event.
		Promise.resolve().then(() => {
			if (this.closed)
				return;
			if (o.shared && typeof g.BroadcastChannel === 'function') {
				this.link = new TabLink(shareKey(this.base, this.channels), o.election, {
					lead: () => this.lead(),
					follow: () => this.follow(),
					relay: (m) => this.onRelay(m),
				}, g);
				this.link.post({ t: 'hello' });
			} else {
				this.lead();
			}
		});
	}

	/** on(type, fn): addEventListener, returning a function that removes it. */
	on(type, fn) {
		this.addEventListener(type, fn);
		return () => this.removeEventListener(type, fn);
	}

	/** The highest id this tab has delivered (or knows covered), or null. */
	get lastId() {
		return this.cursor.lastId;
	}

	/** The transport delivering to this tab (its own or the leader's), or null. */
	get transport() {
		if (this.engine)
			return this.engine.transport;
		return this.remote.state === 'open' ? this.remote.transport : null;
	}

	/** connecting, open, or closed (and, in the tab that connects: pinning, waiting, offline, failed). */
	get state() {
		if (this.closed)
			return 'closed';
		if (this.engine)
			return this.engine.state === 'idle' ? 'connecting' : this.engine.state;
		return this.remote.state;
	}

	/** Stop for good; another tab takes the connection over. */
	close() {
		if (this.closed)
			return;
		this.closed = true;
		if (this.engine)
			this.engine.stop();	// its 'close' is the last event
		this.engine = null;
		if (this.link)
			this.link.close();
		this.unlisten();
	}

	// --- this tab connects ---------------------------------------------

	lead() {
		if (this.closed || this.engine)
			return;
		const o = this.opts;
		const g = this.g;
		this.leader = true;
		this.dispatch('role', { leader: true });
		const engine = new Engine({
			base: this.base, channels: this.channels, transports: this.transports,
			cursor: this.cursor, connectTimeout: o.connectTimeout, heartbeat: o.heartbeat,
			pollTimeout: o.pollTimeout, upgradeMin: o.upgradeMin, upgradeMax: o.upgradeMax,
			backoff: new Backoff({ min: o.backoffMin, max: Math.max(o.backoffMin, o.backoffMax) }),
		}, {
			now: () => Date.now(),
			setTimeout: (f, ms) => g.setTimeout(f, ms),
			clearTimeout: (h) => g.clearTimeout(h),
			open: (name, h, params) => openTransport(name, h, params, g),
			pin: () => pinNow(this.base, o.connectTimeout, g),
		}, (type, d) => this.fromEngine(engine, type, d));
		this.engine = engine;
		if (g.navigator && g.navigator.onLine === false)
			engine.setOnline(false);
		engine.start();
	}

	follow() {
		const engine = this.engine;
		if (!engine)
			return;
		this.engine = null;	// its last 'close' is not this tab's: the relay goes on
		engine.stop();
		this.leader = false;
		this.remote = { state: 'connecting', transport: null };
		this.dispatch('role', { leader: false });
		if (this.link)
			this.link.post({ t: 'hello' });
	}

	fromEngine(engine, type, d) {
		if (engine !== this.engine)
			return;
		const relay = this.link ? (m) => this.link.post(m) : () => {};
		switch (type) {
		case 'message':
		case 'gap':
			relay({ t: 'item', item: d });
			this.deliver(type, d);
			break;
		case 'reset':
			relay({ t: 'reset', item: d });
			this.dispatch('reset', { id: d.id });
			break;
		case 'open':
			relay({ t: 'open', transport: d.transport, lastId: this.cursor.lastId });
			this.dispatch('open', d);
			break;
		case 'close':
			relay({ t: 'close', transport: d.transport, reason: d.reason, willRetry: d.willRetry });
			this.dispatch('close', d);
			break;
		case 'error':
			relay({ t: 'error', transport: d.transport, reason: d.reason || String(d.error) });
			this.dispatch('error', d);
			break;
		default:
			break;
		}
	}

	// --- another tab connects ------------------------------------------

	onRelay(m) {
		if (this.closed)
			return;
		if (m.t === 'hello') {
			if (this.engine)
				this.link.post({ t: 'pos', lastId: this.cursor.lastId, transport: this.engine.transport });
			return;
		}
		if (m.t === 'pos' || m.t === 'open') {
			if (typeof m.lastId === 'number')
				this.cursor.advance(m.lastId);
		}
		if (this.engine) {
			// Two leaders for a moment (a broadcast election settling):
			// what the other delivers first is delivered here too, once.
			if (m.t === 'item')
				this.fromRelay(m.item);
			return;
		}
		switch (m.t) {
		case 'item':
			this.fromRelay(m.item);
			break;
		case 'reset':
			this.cursor.reset();
			this.cursor.accept(m.item, null);
			this.dispatch('reset', { id: m.item.id });
			this.deliver('message', m.item);
			break;
		case 'pos':
		case 'open':
			if (m.transport) {
				const previous = this.remote.state === 'open' ? this.remote.transport : null;
				this.remote = { state: 'open', transport: m.transport };
				if (m.t === 'open' || previous !== m.transport)
					this.dispatch('open', { transport: m.transport, previous, relayed: true });
			}
			break;
		case 'close':
			// A leader that closes for good hands over: this tab goes on.
			this.remote = { state: 'connecting', transport: null };
			this.dispatch('close', { transport: m.transport, reason: m.reason, willRetry: true,
				relayed: true });
			break;
		case 'error':
			this.dispatch('error', { transport: m.transport, reason: m.reason, relayed: true });
			break;
		default:
			break;
		}
	}

	fromRelay(item) {
		const r = this.cursor.accept(item, null);
		if (r.kind === 'message' || r.kind === 'gap')
			this.deliver(r.kind, r.item);
	}

	// --- events --------------------------------------------------------

	deliver(kind, item) {
		if (kind === 'gap') {
			this.dispatch('gap', { firstId: item.first_id, nextId: item.next_id, lost: item.lost, item });
		} else {
			this.dispatch('message', { id: item.id, channel: item.channel, time: item.time,
				data: item.data, dataBase64: item.data_base64, item });
		}
	}

	dispatch(type, detail) {
		if (this.closed && type !== 'close')
			return;
		this.dispatchEvent(new PushEvent(type, detail));
	}

	// online/offline, page visibility, page exit
	listen() {
		const g = this.g;
		this.handlers = {
			online: () => this.engine && this.engine.setOnline(true),
			offline: () => this.engine && this.engine.setOnline(false),
			visibilitychange: () => {
				if (this.engine && g.document && g.document.visibilityState === 'visible')
					this.engine.wake();
			},
			pagehide: (e) => {
				if (!e.persisted)
					this.close();
			},
		};
		if (typeof g.addEventListener !== 'function')
			return;
		for (const [k, f] of Object.entries(this.handlers)) {
			if (k === 'visibilitychange')
				g.document && g.document.addEventListener(k, f);
			else
				g.addEventListener(k, f);
		}
	}

	unlisten() {
		const g = this.g;
		if (typeof g.removeEventListener !== 'function')
			return;
		for (const [k, f] of Object.entries(this.handlers)) {
			if (k === 'visibilitychange')
				g.document && g.document.removeEventListener(k, f);
			else
				g.removeEventListener(k, f);
		}
	}
}

export default PushClient;
