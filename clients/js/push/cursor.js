// SPDX-License-Identifier: GPL-2.0
// push/cursor.js - resume bookkeeping.  One Cursor per subscription holds the
// last id delivered to the application; every connection (a WebSocket, an
// SSE stream, one long-poll request, the relay from another tab) starts from
// it with ?since= and feeds its items back through accept(), which says what
// each one is: a message to deliver, a gap to surface, or a duplicate to drop.
// So a reconnect or a switch of transport loses nothing and repeats nothing,
// and two connections may overlap while one replaces the other.  Pure.

import { normSince } from './url.js';

function isId(v) {
	return Number.isSafeInteger(v) && v > 0;
}

/**
 * What one item from pushd is, before any bookkeeping:
 *   {kind: 'message', item}  {id, channel, time, data | data_base64}
 *   {kind: 'gap', item}      {type: 'gap', first_id, next_id, lost}
 *   {kind: 'heartbeat'}      {type: 'hb'} (a subprotocol heartbeat)
 *   {kind: 'hello', next}    {type: 'hello', next} (a stream's start position)
 *   {kind: 'invalid', reason}
 * obj is a parsed JSON value or the text of one.
 */
export function classify(obj) {
	if (typeof obj === 'string') {
		try {
			obj = JSON.parse(obj);
		} catch (e) {
			return { kind: 'invalid', reason: 'not JSON' };
		}
	}
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
		return { kind: 'invalid', reason: 'not a JSON object' };
	if (obj.type === 'gap') {
		if (!isId(obj.first_id) || !isId(obj.next_id) || obj.next_id < obj.first_id)
			return { kind: 'invalid', reason: 'gap without first_id/next_id' };
		return { kind: 'gap', item: obj };
	}
	if (obj.type === 'hb')
		return { kind: 'heartbeat' };
	if (obj.type === 'hello')
		return isId(obj.next) || obj.next === 0 ? { kind: 'hello', next: obj.next }
			: { kind: 'invalid', reason: 'hello without next' };
	if (obj.type !== undefined)
		return { kind: 'invalid', reason: `unknown type ${JSON.stringify(obj.type)}` };
	if (!isId(obj.id) || typeof obj.channel !== 'string')
		return { kind: 'invalid', reason: 'message without id/channel' };
	return { kind: 'message', item: obj };
}

export class Cursor {
	/** since: where the application wants to start (see normSince()). */
	constructor(since) {
		this.start = normSince(since);
		/** The highest id delivered or known to be covered; null: none yet. */
		this.lastId = typeof this.start === 'number' ? this.start : null;
	}

	/** What the next connection passes as ?since= (null: only new messages). */
	position() {
		return this.lastId !== null ? this.lastId : this.start;
	}

	/** A token for one connection, remembering the since it started from. */
	begin() {
		const since = this.position();
		return { since: typeof since === 'number' ? since : null };
	}

	/** Everything up to id is covered (a long-poll's next, a pin, a relay). */
	advance(id) {
		if ((isId(id) || id === 0) && (this.lastId === null || id > this.lastId))
			this.lastId = id;
	}

	/**
	 * Account for one item that came over the connection of token.  Returns
	 * classify()'s answer, with kind 'dup' for what was already delivered
	 * and 'reset' for a message whose id is not above the since its
	 * connection started from: pushd serves ids at or below since only when
	 * the device's ids started again (docs/HTTP.md), so everything before is
	 * void and the message is delivered.
	 */
	accept(obj, token) {
		const c = classify(obj);
		if (c.kind === 'message') {
			const id = c.item.id;
			if (token && token.since !== null && id <= token.since) {
				token.since = null;
				this.lastId = id;
				return { kind: 'reset', item: c.item };
			}
			if (this.lastId !== null && id <= this.lastId)
				return { kind: 'dup', item: c.item };
			this.lastId = id;
		} else if (c.kind === 'gap') {
			const covered = c.item.next_id - 1;
			if (this.lastId !== null && covered <= this.lastId)
				return { kind: 'dup', item: c.item };
			this.lastId = covered;
		} else if (c.kind === 'hello') {
			this.advance(c.next);
		}
		return c;
	}

	/** Forget the position (ids started again); resume from "now". */
	reset() {
		this.lastId = null;
		this.start = null;
	}
}
