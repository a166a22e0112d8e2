// SPDX-License-Identifier: GPL-2.0
// push/backoff.js - reconnect delays: exponential, capped, with jitter, so
// that the many clients a pushd restart drops do not all come back in the
// same second.  Pure; the random source is injectable for tests.

export class Backoff {
	/**
	 * min, max: milliseconds (the first delay is in [min/2, min], then it
	 * doubles up to max); random: () => [0, 1).
	 */
	constructor({ min = 1000, max = 30000, factor = 2, random = Math.random } = {}) {
		if (!(min > 0) || !(max >= min) || !(factor >= 1))
			throw new TypeError('push: backoff needs 0 < min <= max and factor >= 1');
		this.min = min;
		this.max = max;
		this.factor = factor;
		this.random = random;
		this.attempts = 0;
	}

	/**
	 * The next delay in ms: "equal jitter", uniform in [d/2, d] where d is
	 * min * factor^attempts capped at max.  Half of it is random, so clients
	 * spread out; half is not, so none comes back at once.
	 */
	next() {
		const d = Math.min(this.max, this.min * Math.pow(this.factor, this.attempts));
		this.attempts++;
		return Math.round(d / 2 + this.random() * d / 2);
	}

	/** A connection worked: the next delay starts from min again. */
	reset() {
		this.attempts = 0;
	}
}
