// SPDX-License-Identifier: GPL-2.0
// Unit tests of push/cursor.js (resume bookkeeping) and push/sse.js.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Cursor, classify } from '../push/cursor.js';
import { SseParser } from '../push/sse.js';

const msg = (id, ch = 'c') => ({ id, channel: ch, time: '2026-01-01T00:00:00.000000000Z', data: `m${id}` });

test('classify: messages, gaps, heartbeats, hellos and junk', () => {
	assert.equal(classify(JSON.stringify(msg(3))).kind, 'message');
	assert.equal(classify({ id: 1, channel: 'x', data_base64: 'AA==' }).kind, 'message');
	assert.equal(classify({ type: 'gap', first_id: 2, next_id: 9, lost: 3 }).kind, 'gap');
	assert.equal(classify({ type: 'hb' }).kind, 'heartbeat');
	assert.deepEqual(classify({ type: 'hello', next: 7 }), { kind: 'hello', next: 7 });
	for (const bad of ['{', '[]', 'null', '3', { id: 0, channel: 'x' }, { id: 1.5, channel: 'x' },
		{ id: 1 }, { type: 'gap', first_id: 5, next_id: 2 }, { type: 'gap' }, { type: 'what' },
		{ type: 'hello' }])
		assert.equal(classify(bad).kind, 'invalid', JSON.stringify(bad));
});

test('a fresh cursor starts from now, oldest or an id', () => {
	assert.equal(new Cursor(undefined).position(), null);
	assert.equal(new Cursor('oldest').position(), 'oldest');
	assert.equal(new Cursor(41).position(), 41);
	assert.deepEqual(new Cursor('oldest').begin(), { since: null });
	assert.deepEqual(new Cursor(41).begin(), { since: 41 });
});

test('every id once: duplicates from an overlapping connection are dropped', () => {
	const c = new Cursor(10);
	const a = c.begin();
	assert.equal(c.accept(msg(11), a).kind, 'message');
	assert.equal(c.accept(msg(12), a).kind, 'message');
	const b = c.begin();	// a second connection from 12, e.g. a probe
	assert.equal(b.since, 12);
	assert.equal(c.accept(msg(13), a).kind, 'message');
	assert.equal(c.accept(msg(13), b).kind, 'dup');
	assert.equal(c.accept(msg(14), b).kind, 'message');
	assert.equal(c.accept(msg(14), a).kind, 'dup');
	assert.equal(c.lastId, 14);
	assert.equal(c.position(), 14);
});

test('gaps are surfaced once and move the position past what was lost', () => {
	const c = new Cursor(5);
	const t = c.begin();
	const gap = { type: 'gap', first_id: 6, next_id: 20, lost: 4 };
	assert.deepEqual(c.accept(gap, t), { kind: 'gap', item: gap });
	assert.equal(c.lastId, 19);
	assert.equal(c.accept({ ...gap }, c.begin()).kind, 'dup');
	assert.equal(c.accept(msg(20), t).kind, 'message');
});

test('ids that start again (a module reload) reset the cursor instead of being dropped', () => {
	const c = new Cursor(null);
	const t1 = c.begin();
	assert.equal(c.accept(msg(500), t1).kind, 'message');
	const t2 = c.begin();
	assert.equal(t2.since, 500);
	assert.equal(c.accept(msg(3), t2).kind, 'reset');
	assert.equal(c.lastId, 3);
	assert.equal(c.accept(msg(4), t2).kind, 'message');
	// A relayed item has no connection of its own: below the position it is a duplicate.
	assert.equal(c.accept(msg(2), null).kind, 'dup');
});

test('advance: long-poll next, pins and relayed positions only move forward', () => {
	const c = new Cursor(null);
	c.advance(0);
	assert.equal(c.position(), 0);
	c.advance(30);
	c.advance(12);
	c.advance(-1);
	c.advance('x');
	assert.equal(c.position(), 30);
	c.reset();
	assert.equal(c.position(), null);
	const o = new Cursor('oldest');
	o.advance(7);
	assert.equal(o.position(), 7);
});

test('hello moves the position (a stream that says where it starts)', () => {
	const c = new Cursor(null);
	assert.equal(c.accept({ type: 'hello', next: 77 }, c.begin()).kind, 'hello');
	assert.equal(c.position(), 77);
});

function parseAll(text, cuts) {
	const p = new SseParser();
	const out = [];
	let at = 0;
	for (const cut of [...cuts, text.length]) {
		out.push(...p.feed(text.slice(at, cut)));
		at = cut;
	}
	return out;
}

const STREAM = '\ufeffretry: 2000\n\nid: 1\ndata: {"id":1}\n\n: hb\r\n' +
	'event: gap\rdata: {"type":"gap"}\r\rdata: a\r\ndata:b\r\ndata\r\n\r\n' +
	'id: x\0y\nevent: close\ndata: {"reason":"shutdown"}\n\nfield-only\n:\n\n';

const WANT = [
	{ type: 'retry', ms: 2000 },
	{ type: 'event', event: 'message', data: '{"id":1}', id: '1' },
	{ type: 'comment', text: 'hb' },
	{ type: 'event', event: 'gap', data: '{"type":"gap"}', id: '1' },
	{ type: 'event', event: 'message', data: 'a\nb\n', id: '1' },
	{ type: 'event', event: 'close', data: '{"reason":"shutdown"}', id: '1' },
	{ type: 'comment', text: '' },
];

test('SSE: the WHATWG rules, in one piece', () => {
	assert.deepEqual(parseAll(STREAM, []), WANT);
});

test('SSE: the same records however the stream is cut (CRLF split included)', () => {
	for (let i = 0; i <= STREAM.length; i++)
		assert.deepEqual(parseAll(STREAM, [i]), WANT, `cut at ${i}`);
	for (let i = 0; i < STREAM.length; i += 3)
		assert.deepEqual(parseAll(STREAM, [i, i + 1, i + 2]), WANT, `cuts at ${i}..`);
	const bytewise = [...Array(STREAM.length).keys()];
	assert.deepEqual(parseAll(STREAM, bytewise), WANT);
});

test('SSE: an event without its blank line is not dispatched at the end', () => {
	const p = new SseParser();
	assert.deepEqual(p.feed('data: half'), []);
	assert.deepEqual(p.end(), []);
});
