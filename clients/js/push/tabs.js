// SPDX-License-Identifier: GPL-2.0
// push/tabs.js - one connection per browser.  The tabs of one origin that
// subscribe to the same channels of the same server elect a leader; only
// the leader connects, and it relays what it receives to the others over a
// BroadcastChannel.  The election uses the Web Locks API where there is one
// (the lock is released by the browser when the leader's tab goes, however
// it goes) and otherwise the BroadcastChannel itself (BcElection below).
// Every tab keeps its own cursor fed by the relay, so the tab that takes
// over resumes from the last id it has seen: a handover loses nothing, and
// what it repeats the others drop as duplicates.
//
// Relay messages, {t: ...}: leader to all: 'item' {item}, 'reset' {item},
// 'open' {transport}, 'close' {transport, reason, willRetry}, 'error'
// {reason}, 'pos' {lastId, transport}; any tab: 'hello' (the leader answers
// 'pos'); election (broadcast mode): 'who', 'lead', 'claim', 'bye' {id}.

/**
 * A leader election over a broadcast medium, for browsers without Web
 * Locks.  The leader says 'lead' every beat ms; a tab that has heard no
 * 'lead' for timeout ms, or hears the leader's 'bye', claims, and leads
 * unless within claimWait ms it hears a lead or a claim from a smaller id.
 * Two leaders (a partition healing) resolve the same way.  Pure: env is
 * {now(), setTimeout, clearTimeout, post(msg)}; cb is {lead(), follow()}.
 */
export class BcElection {
	constructor(id, env, cb, { beat = 1000, timeout = 2500, claimWait = 300 } = {}) {
		this.id = id;
		this.env = env;
		this.cb = cb;
		this.beat = beat;
		this.timeout = timeout;
		this.claimWait = claimWait;
		this.state = 'follower';	// claiming, leader, stopped
		this.lastLead = 0;
		this.timer = null;
	}

	start() {
		this.lastLead = this.env.now() - this.timeout + 2 * this.claimWait;
		this.env.post({ t: 'who', id: this.id });
		this.arm(2 * this.claimWait);
	}

	stop() {
		if (this.state === 'leader')
			this.env.post({ t: 'bye', id: this.id });
		this.state = 'stopped';
		this.disarm();
	}

	arm(ms) {
		this.disarm();
		this.timer = this.env.setTimeout(() => {
			this.timer = null;
			this.tick();
		}, ms);
	}

	disarm() {
		if (this.timer !== null)
			this.env.clearTimeout(this.timer);
		this.timer = null;
	}

	tick() {
		const now = this.env.now();
		if (this.state === 'leader') {
			this.env.post({ t: 'lead', id: this.id });
			this.arm(this.beat);
		} else if (this.state === 'claiming') {
			this.state = 'leader';
			this.env.post({ t: 'lead', id: this.id });
			this.arm(this.beat);
			this.cb.lead();
		} else if (this.state === 'follower') {
			if (now - this.lastLead >= this.timeout)
				this.claim();
			else
				this.arm(this.lastLead + this.timeout - now);
		}
	}

	claim() {
		this.state = 'claiming';
		this.env.post({ t: 'claim', id: this.id });
		this.arm(this.claimWait);
	}

	receive(m) {
		if (this.state === 'stopped' || !m || m.id === this.id)
			return;
		switch (m.t) {
		case 'who':
			if (this.state === 'leader')
				this.env.post({ t: 'lead', id: this.id });
			break;
		case 'lead':
			if (this.state === 'leader') {
				if (m.id < this.id)
					this.yield();
				else
					this.env.post({ t: 'lead', id: this.id });
			} else {
				this.state = 'follower';
				this.lastLead = this.env.now();
				this.arm(this.timeout);
			}
			break;
		case 'claim':
			if (this.state === 'leader')
				this.env.post({ t: 'lead', id: this.id });
			else if (this.state === 'claiming' && m.id < this.id)
				this.yield();
			break;
		case 'bye':
			if (this.state !== 'leader')
				this.claim();
			break;
		default:
			break;
		}
	}

	yield() {
		const was = this.state;
		this.state = 'follower';
		this.lastLead = this.env.now();
		this.arm(this.timeout);
		if (was === 'leader')
			this.cb.follow();
	}
}

/**
 * The browser side: a BroadcastChannel named key, and the election.
 * cb: lead() (this tab now holds the connection), follow() (it no longer
 * does), relay(msg) (a relay message from another tab).  election: 'auto'
 * (Web Locks if present), 'locks' or 'broadcast'.
 */
export class TabLink {
	constructor(key, election, cb, g = globalThis) {
		this.key = key;
		this.cb = cb;
		this.g = g;
		this.leader = false;
		this.closed = false;
		this.bc = new g.BroadcastChannel(key);
		this.bc.onmessage = (e) => this.onMessage(e.data);
		const locks = g.navigator && g.navigator.locks;
		this.mode = election === 'broadcast' || !locks ? 'broadcast' : 'locks';
		if (this.mode === 'locks')
			this.lockElect(locks);
		else
			this.bcElect();
	}

	lockElect(locks) {
		this.abort = new this.g.AbortController();
		locks.request(this.key, { signal: this.abort.signal }, () => new Promise((release) => {
			if (this.closed) {
				release();
				return;
			}
			this.release = release;
			this.becomeLeader();
		})).catch(() => {
			// aborted: this tab closed before its turn came
		});
	}

	bcElect() {
		const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
		const g = this.g;
		this.election = new BcElection(id, {
			now: () => Date.now(),
			setTimeout: (f, ms) => g.setTimeout(f, ms),
			clearTimeout: (h) => g.clearTimeout(h),
			post: (m) => this.post(m),
		}, { lead: () => this.becomeLeader(), follow: () => this.becomeFollower() });
		this.election.start();
	}

	becomeLeader() {
		if (this.closed || this.leader)
			return;
		this.leader = true;
		this.cb.lead();
	}

	becomeFollower() {
		if (!this.leader)
			return;
		this.leader = false;
		this.cb.follow();
	}

	onMessage(m) {
		if (this.closed || !m || typeof m.t !== 'string')
			return;
		if (this.election && ['who', 'lead', 'claim', 'bye'].includes(m.t))
			this.election.receive(m);
		else
			this.cb.relay(m);
	}

	post(m) {
		if (!this.closed)
			this.bc.postMessage(m);
	}

	/** Leave: give the connection to the next tab, stop listening. */
	close() {
		if (this.closed)
			return;
		if (this.election)
			this.election.stop();	// posts 'bye' while the channel is open
		this.closed = true;
		if (this.release)
			this.release();
		if (this.abort)
			this.abort.abort();
		this.bc.close();
	}
}
