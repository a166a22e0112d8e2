// SPDX-License-Identifier: GPL-2.0
// push/engine.js - the transport state machine of one subscription.
//
// It holds at most two connections: the primary, which delivers, and while
// a better transport is being tried again, a probe.  Everything around it
// comes in through env (clock, timers, the transports, the pin), so node's
// test runner drives every path with fake transports and a fake clock.
//
// How it moves, in the order of opts.transports (best first):
//  - A transport that fails before it opens (an upgrade a proxy refused, a
//    stream whose first bytes never come because a proxy buffers them, a
//    connect time-out), or that opened but then delivered nothing until its
//    heartbeat deadline, is a transport failure: the next transport is
//    tried at once.  When every transport failed in one round, the server
//    is down: wait a backoff delay, then start again from the best.
//  - A transport that opens after others failed in its round demotes them:
//    each is tried again, as a probe beside the working connection, after
//    upgradeMin ms, doubling on each further failure up to upgradeMax.  A
//    probe that opens replaces the primary; a probe that fails leaves it.
//  - A connection that worked and then dropped reconnects after a backoff
//    delay, to the best transport not demoted.
//  - Every connection starts from the cursor (?since=), and every item goes
//    through it, so none of these moves loses or repeats a message.

import { Backoff } from './backoff.js';
import { Cursor } from './cursor.js';
import { subUrl } from './url.js';

export class Engine {
	/**
	 * opts: base, channels, transports (checked, see url.js), cursor (a
	 * Cursor), connectTimeout (ms), heartbeat and pollTimeout (pushd's, in
	 * s), upgradeMin, upgradeMax (ms), backoff (a Backoff), pin (bool: learn
	 * "now" from the server before the first connection when there is no
	 * position yet).
	 * env: now(), setTimeout(fn, ms), clearTimeout(h), open(name, handlers,
	 * params) -> {close()}, pin() -> Promise<id> (rejects with e.fatal set
	 * when the server will never answer it).
	 * emit(type, detail): 'message', 'gap', 'reset', 'open', 'close', 'error'.
	 */
	constructor(opts, env, emit) {
		this.opts = Object.assign({ connectTimeout: 10000, heartbeat: 15, pollTimeout: 30,
			upgradeMin: 10000, upgradeMax: 600000, pin: true }, opts);
		this.cursor = this.opts.cursor || new Cursor(null);
		this.backoff = this.opts.backoff || new Backoff();
		this.env = env;
		this.emit = emit;
		this.state = 'idle';	// pinning, connecting, open, waiting, offline, stopped, failed
		this.primary = null;
		this.probe = null;
		this.round = new Set();	// transports that failed since the last one opened
		this.demoted = new Map();	// name -> {count, until}
		this.retryTimer = null;
		this.upgradeTimer = null;
		this.isOnline = true;
		this.gen = 0;
	}

	/** The transport of the open primary connection, or null. */
	get transport() {
		return this.state === 'open' && this.primary ? this.primary.name : null;
	}

	start() {
		if (this.state === 'stopped' || this.state === 'failed')
			return;
		this.clearRetry();
		if (this.opts.pin && this.cursor.position() === null)
			this.pin();
		else
			this.connect();
	}

	/** Close everything; nothing is emitted afterwards except the last 'close'. */
	stop() {
		if (this.state === 'stopped')
			return;
		const was = this.transport;
		this.gen++;
		this.clearRetry();
		this.clearUpgrade();
		this.drop(this.probe);
		this.drop(this.primary);
		this.probe = this.primary = null;
		this.state = 'stopped';
		if (was)
			this.emit('close', { transport: was, reason: 'closed', willRetry: false });
	}

	/** The browser went on- or offline: offline, wait; online, retry at once. */
	setOnline(online) {
		this.isOnline = online;
		if (online && (this.state === 'offline' || this.state === 'waiting')) {
			this.backoff.reset();
			this.start();
		}
	}

	/** The page became visible again: retry now, and check the heartbeat deadline now. */
	wake() {
		if (this.state === 'waiting') {
			this.backoff.reset();
			this.start();
		} else if (this.primary && this.primary.opened) {
			this.checkLive(this.primary);
		}
	}

	// --- connecting ----------------------------------------------------

	pin() {
		const gen = this.gen;
		this.state = 'pinning';
		this.env.pin().then((id) => {
			if (gen !== this.gen || this.state !== 'pinning')
				return;
			if (this.cursor.position() === null)
				this.cursor.advance(id);
			this.connect();
		}, (e) => {
			if (gen !== this.gen || this.state !== 'pinning')
				return;
			this.emit('error', { error: e, reason: 'pin' });
			if (e && e.fatal) {
				this.opts.pin = false;	// resume is exact from the first message on
				this.connect();
			} else {
				this.waitRetry();
			}
		});
	}

	/** The transports still to try in this round: not demoted first. */
	candidates() {
		const now = this.env.now();
		const left = this.opts.transports.filter((t) => !this.round.has(t));
		const ok = left.filter((t) => !this.isDemoted(t, now));
		return ok.concat(left.filter((t) => this.isDemoted(t, now)));
	}

	isDemoted(t, now) {
		const d = this.demoted.get(t);
		return d !== undefined && d.until > now;
	}

	connect() {
		const next = this.candidates()[0];
		if (next === undefined) {
			this.round.clear();
			this.waitRetry();
			return;
		}
		this.state = 'connecting';
		this.primary = this.openConn(next, false);
	}

	waitRetry() {
		this.clearRetry();
		if (!this.isOnline) {
			this.state = 'offline';
			return;
		}
		this.state = 'waiting';
		const gen = this.gen;
		this.retryTimer = this.env.setTimeout(() => {
			this.retryTimer = null;
			if (gen === this.gen)
				this.start();
		}, this.backoff.next());
	}

	clearRetry() {
		if (this.retryTimer !== null)
			this.env.clearTimeout(this.retryTimer);
		this.retryTimer = null;
	}

	/** Start one connection; its handlers are all this engine hears of it. */
	openConn(name, probe) {
		const o = this.opts;
		const conn = { name, probe, adapter: null, token: null, opened: false, delivered: false,
			server: false, ended: false, heartbeats: name !== 'websocket', openedAt: 0,
			lastActivity: 0, openTimer: null, liveTimer: null };
		const h = {
			url: () => {
				const since = this.cursor.position();
				conn.token = { since: typeof since === 'number' ? since : null };
				return subUrl(o.base, o.channels, name, since);
			},
			open: (info) => this.onOpen(conn, info || {}),
			item: (obj) => this.onItem(conn, obj),
			next: (id) => {
				if (!conn.ended) {
					this.activity(conn);
					this.cursor.advance(id);
				}
			},
			activity: () => this.activity(conn),
			close: (info) => this.onEnd(conn, info || {}),
		};
		conn.openTimer = this.env.setTimeout(() => {
			conn.openTimer = null;
			if (!conn.opened)
				this.onEnd(conn, { reason: 'connect timeout' });
		}, o.connectTimeout);
		conn.adapter = this.env.open(name, h, { pollTimeout: o.pollTimeout, connectTimeout: o.connectTimeout });
		return conn;
	}

	/** How long an open connection may stay silent, or 0 for no deadline. */
	liveness(conn) {
		const hb = this.opts.heartbeat * 1000;
		if (conn.name === 'longpoll')
			return this.opts.pollTimeout * 1000 + Math.max(hb, 10000);
		return conn.heartbeats ? 2 * hb + 2000 : 0;
	}

	activity(conn) {
		if (conn.ended)
			return;
		conn.lastActivity = this.env.now();
		if (conn.opened && !conn.delivered) {
			conn.delivered = true;
			if (conn === this.primary)
				this.backoff.reset();	// it works: a later drop starts the delays again
		}
	}

	armLive(conn) {
		const ms = this.liveness(conn);
		if (!ms || conn.ended)
			return;
		const left = Math.max(0, conn.lastActivity + ms - this.env.now());
		conn.liveTimer = this.env.setTimeout(() => {
			conn.liveTimer = null;
			this.checkLive(conn);
		}, left);
	}

	checkLive(conn) {
		const ms = this.liveness(conn);
		if (!ms || conn.ended)
			return;
		if (this.env.now() - conn.lastActivity >= ms) {
			this.onEnd(conn, { reason: 'no heartbeat', deadline: true });
		} else if (conn.liveTimer === null) {
			this.armLive(conn);
		}
	}

	// --- what the connections say --------------------------------------

	onOpen(conn, info) {
		if (conn.ended || conn.opened)
			return;
		conn.opened = true;
		if (info.heartbeats !== undefined)
			conn.heartbeats = !!info.heartbeats;
		conn.openedAt = conn.lastActivity = this.env.now();
		if (conn.openTimer !== null)
			this.env.clearTimeout(conn.openTimer);
		conn.openTimer = null;
		this.armLive(conn);
		if (conn.probe) {
			this.promote(conn);
			return;
		}
		if (conn !== this.primary)
			return;
		const now = this.env.now();
		for (const t of this.round)
			this.demote(t, now);
		this.round.clear();
		this.demoted.delete(conn.name);
		this.state = 'open';
		this.emit('open', { transport: conn.name });
		this.scheduleUpgrade();
	}

	onItem(conn, obj) {
		if (conn.ended)
			return;
		this.activity(conn);
		const r = this.cursor.accept(obj, conn.token);
		switch (r.kind) {
		case 'message':
			this.emit('message', r.item);
			break;
		case 'gap':
			this.emit('gap', r.item);
			break;
		case 'reset':
			this.emit('reset', r.item);
			this.emit('message', r.item);
			break;
		case 'invalid':
			this.emit('error', { transport: conn.name, reason: 'bad item: ' + r.reason });
			break;
		default:
			break;	// dup, heartbeat, hello
		}
	}

	/** A connection ended: it closed, failed, or missed a deadline. */
	onEnd(conn, info) {
		if (conn.ended)
			return;
		this.drop(conn);
		const lived = conn.opened && this.env.now() - conn.openedAt >= this.opts.connectTimeout;
		const failed = !conn.opened ||
			(!conn.delivered && (info.deadline || (!info.server && !lived)));
		if (conn.probe) {
			this.probe = null;
			this.emit('error', { transport: conn.name, reason: info.reason || 'failed', probe: true });
			this.demote(conn.name, this.env.now());
			this.scheduleUpgrade();
			return;
		}
		if (conn !== this.primary)
			return;
		const was = conn.opened ? conn.name : null;
		this.primary = null;
		this.clearUpgrade();
		this.drop(this.probe);
		this.probe = null;
		if (info.fatal) {
			this.state = 'failed';
			this.gen++;
			this.emit('error', { transport: conn.name, reason: info.reason, fatal: true });
			if (was)
				this.emit('close', { transport: was, reason: info.reason, willRetry: false });
			return;
		}
		if (failed)
			this.emit('error', { transport: conn.name, reason: info.reason || 'failed' });
		if (was)
			this.emit('close', { transport: was, reason: info.reason || 'closed', code: info.code,
				willRetry: true });
		if (failed) {
			this.round.add(conn.name);
			this.connect();
		} else {
			if (conn.delivered || lived)
				this.backoff.reset();
			this.waitRetry();
		}
	}

	/** Forget a connection: its timers, its adapter, anything it says later. */
	drop(conn) {
		if (!conn || conn.ended)
			return;
		conn.ended = true;
		if (conn.openTimer !== null)
			this.env.clearTimeout(conn.openTimer);
		if (conn.liveTimer !== null)
			this.env.clearTimeout(conn.liveTimer);
		conn.openTimer = conn.liveTimer = null;
		try {
			conn.adapter.close();
		} catch (e) {
			// a transport that fails to close is gone all the same
		}
	}

	// --- coming back to a better transport ------------------------------

	demote(t, now) {
		const d = this.demoted.get(t) || { count: 0, until: 0 };
		d.count++;
		d.until = now + Math.min(this.opts.upgradeMax,
			this.opts.upgradeMin * Math.pow(2, d.count - 1));
		this.demoted.set(t, d);
	}

	clearUpgrade() {
		if (this.upgradeTimer !== null)
			this.env.clearTimeout(this.upgradeTimer);
		this.upgradeTimer = null;
	}

	/** The transports better than the primary's, best first. */
	better() {
		if (!this.primary)
			return [];
		const t = this.opts.transports;
		return t.slice(0, t.indexOf(this.primary.name));
	}

	scheduleUpgrade() {
		this.clearUpgrade();
		if (this.state !== 'open' || this.probe)
			return;
		const better = this.better();
		if (!better.length)
			return;
		const now = this.env.now();
		const ready = better.find((t) => !this.isDemoted(t, now));
		if (ready !== undefined) {
			this.probe = this.openConn(ready, true);
			return;
		}
		const when = Math.min(...better.map((t) => this.demoted.get(t).until));
		this.upgradeTimer = this.env.setTimeout(() => {
			this.upgradeTimer = null;
			this.scheduleUpgrade();
		}, Math.max(0, when - now));
	}

	/** A probe opened: it becomes the primary, the old primary closes quietly. */
	promote(conn) {
		const old = this.primary;
		this.probe = null;
		conn.probe = false;
		this.primary = conn;
		this.drop(old);
		this.demoted.delete(conn.name);
		this.state = 'open';
		this.emit('open', { transport: conn.name, previous: old ? old.name : null });
		this.scheduleUpgrade();
	}
}
