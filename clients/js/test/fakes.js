// SPDX-License-Identifier: GPL-2.0
// Test doubles for the engine and the election: a clock whose timers run
// only when a test advances it, and transports a test opens, feeds and
// breaks by hand.

export class Clock {
	constructor() {
		this.t = 1000000;
		this.seq = 0;
		this.timers = new Map();
	}

	now() {
		return this.t;
	}

	setTimeout(fn, ms) {
		const id = ++this.seq;
		this.timers.set(id, { at: this.t + Math.max(0, ms), fn, id });
		return id;
	}

	clearTimeout(id) {
		this.timers.delete(id);
	}

	/** Run every timer due within ms, in time order, moving the clock along. */
	advance(ms) {
		const end = this.t + ms;
		for (;;) {
			let next = null;
			for (const tm of this.timers.values())
				if (tm.at <= end && (!next || tm.at < next.at || (tm.at === next.at && tm.id < next.id)))
					next = tm;
			if (!next)
				break;
			this.timers.delete(next.id);
			this.t = next.at;
			next.fn();
		}
		this.t = end;
	}
}

/** Connections the engine opened; each has the engine's handlers (h) and its URL. */
export class Net {
	constructor() {
		this.conns = [];
	}

	open(name, h, params) {
		const c = { name, h, params, url: name === 'longpoll' ? null : h.url(), closed: false,
			close() {
				this.closed = true;
			} };
		this.conns.push(c);
		return c;
	}

	/** The connections not closed by the engine. */
	live() {
		return this.conns.filter((c) => !c.closed);
	}

	last() {
		return this.conns[this.conns.length - 1];
	}
}

/** Settle pending promise callbacks (the pin). */
export function flush() {
	return new Promise((resolve) => setImmediate(resolve));
}
