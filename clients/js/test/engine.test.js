// SPDX-License-Identifier: GPL-2.0
// Unit tests of push/engine.js, the transport state machine, with a fake
// clock and fake transports: fallback, coming back, resume, backoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Backoff } from '../push/backoff.js';
import { Cursor } from '../push/cursor.js';
import { Engine } from '../push/engine.js';
import { Clock, Net, flush } from './fakes.js';

function setup(over = {}, pin = () => Promise.resolve(100)) {
	const clock = new Clock();
	const net = new Net();
	const events = [];
	const env = {
		now: () => clock.now(),
		setTimeout: (f, ms) => clock.setTimeout(f, ms),
		clearTimeout: (id) => clock.clearTimeout(id),
		open: (n, h, p) => net.open(n, h, p),
		pin,
	};
	const e = new Engine({
		base: 'http://h', channels: ['c'], transports: ['websocket', 'sse', 'longpoll'],
		cursor: new Cursor(null), backoff: new Backoff({ min: 1000, max: 8000, random: () => 1 }),
		connectTimeout: 5000, heartbeat: 5, pollTimeout: 30, upgradeMin: 10000, upgradeMax: 40000,
		...over,
	}, env, (type, d) => events.push({ type, ...d }));
	return { clock, net, events, e };
}

const item = (id) => JSON.stringify({ id, channel: 'c', data: 'm' + id });
const ids = (events) => events.filter((x) => x.type === 'message').map((x) => x.id);
const types = (events) => events.map((x) => x.type + (x.transport ? ':' + x.transport : ''));

test('pins "now", then connects with the best transport from there', async () => {
	const { net, events, e } = setup();
	e.start();
	assert.equal(e.state, 'pinning');
	assert.equal(net.conns.length, 0);
	await flush();
	assert.equal(net.last().name, 'websocket');
	assert.equal(net.last().url, 'ws://h/sub/c?since=100');
	net.last().h.open({});
	assert.equal(e.transport, 'websocket');
	net.last().h.item(item(101));
	net.last().h.item(item(101));
	net.last().h.item(item(102));
	assert.deepEqual(ids(events), [101, 102]);
	assert.deepEqual(types(events).slice(0, 1), ['open:websocket']);
});

test('an explicit since needs no pin; oldest goes to the URL', () => {
	const { net, e } = setup({ cursor: new Cursor('oldest') });
	e.start();
	assert.equal(net.last().url, 'ws://h/sub/c?since=oldest');
});

test('a refused upgrade moves to SSE at once, from the same position', async () => {
	const { net, events, e } = setup();
	e.start();
	await flush();
	net.last().h.close({ reason: 'websocket closed 1006', code: 1006 });
	assert.equal(net.last().name, 'sse');
	assert.equal(net.last().url, 'http://h/sub/c?since=100');
	net.last().h.open({});
	net.last().h.item(item(101));
	assert.equal(e.transport, 'sse');
	assert.deepEqual(types(events), ['error:websocket', 'open:sse', 'message']);
});

test('a connection that never opens fails at connectTimeout', async () => {
	const { clock, net, e } = setup();
	e.start();
	await flush();
	const ws = net.last();
	clock.advance(4999);
	assert.equal(ws.closed, false);
	clock.advance(1);
	assert.equal(ws.closed, true);
	assert.equal(net.last().name, 'sse');
});

test('a buffered SSE stream (opened, then silent) fails at the heartbeat deadline', async () => {
	const { clock, net, events, e } = setup({ transports: ['sse', 'longpoll'] });
	e.start();
	await flush();
	const s = net.last();
	s.h.open({});
	clock.advance(2 * 5000 + 2000 - 1);
	assert.equal(s.closed, false);
	clock.advance(1);
	assert.equal(s.closed, true);
	assert.equal(net.last().name, 'longpoll');
	assert.ok(events.some((x) => x.type === 'close' && x.transport === 'sse' && x.willRetry));
	assert.ok(events.some((x) => x.type === 'error' && /heartbeat/.test(x.reason)));
});

test('heartbeats keep a quiet SSE stream alive', async () => {
	const { clock, net, e } = setup({ transports: ['sse', 'longpoll'] });
	e.start();
	await flush();
	const s = net.last();
	s.h.open({});
	for (let i = 0; i < 20; i++) {
		clock.advance(5000);
		s.h.activity();
	}
	assert.equal(s.closed, false);
	assert.equal(e.transport, 'sse');
});

test('a WebSocket without visible heartbeats has no deadline; with them it has', async () => {
	const a = setup();
	a.e.start();
	await flush();
	a.net.last().h.open({ heartbeats: false });
	a.clock.advance(600000);
	assert.equal(a.e.transport, 'websocket');
	const b = setup();
	b.e.start();
	await flush();
	b.net.last().h.open({ heartbeats: true });
	b.clock.advance(12000);
	assert.equal(b.net.conns[0].closed, true);
});

test('the demoted transport is probed later and takes over without loss or repeat', async () => {
	const { clock, net, events, e } = setup();
	e.start();
	await flush();
	net.conns[0].h.close({ code: 1006 });
	const s = net.conns[1];
	s.h.open({});
	s.h.item(item(101));
	clock.advance(9999);
	assert.equal(net.conns.length, 2);
	clock.advance(1);
	const probe = net.conns[2];
	assert.equal(probe.name, 'websocket');
	assert.equal(probe.url, 'ws://h/sub/c?since=101');
	s.h.item(item(102));	// the old stream goes on while the probe connects
	probe.h.open({});
	assert.equal(s.closed, true);
	assert.equal(e.transport, 'websocket');
	probe.h.item(item(102));	// pushd sends it again: the probe started from 101
	probe.h.item(item(103));
	s.h.item(item(104));	// a late item of the closed stream is not heard
	assert.deepEqual(ids(events), [101, 102, 103]);
	assert.deepEqual(types(events).filter((t) => t.startsWith('open')), ['open:sse', 'open:websocket']);
	assert.equal(events.filter((x) => x.type === 'close').length, 0);
});

test('a probe that fails leaves the primary and waits twice as long, up to upgradeMax', async () => {
	const { clock, net, events, e } = setup();
	e.start();
	await flush();
	net.conns[0].h.close({ code: 1006 });
	net.conns[1].h.open({});
	const waits = [];
	for (let i = 0; i < 4; i++) {
		const n = net.conns.length;
		const t0 = clock.now();
		while (net.conns.length === n) {
			clock.advance(1000);
			net.conns[1].h.activity();	// the SSE stream's heartbeats
		}
		waits.push(clock.now() - t0);
		net.last().h.close({ code: 1006 });
		assert.equal(e.transport, 'sse');
		assert.equal(net.conns[1].closed, false);
	}
	assert.deepEqual(waits, [10000, 20000, 40000, 40000]);
	assert.equal(events.filter((x) => x.type === 'error' && x.probe).length, 4);
	assert.equal(events.filter((x) => x.type === 'close').length, 0);
});

test('a drop after delivery reconnects after a backoff delay, resuming from the last id', async () => {
	const { clock, net, events, e } = setup();
	e.start();
	await flush();
	net.last().h.open({});
	net.last().h.item(item(101));
	net.last().h.close({ code: 1001, reason: 'shutdown', server: true });
	assert.equal(e.state, 'waiting');
	assert.equal(net.conns.length, 1);
	clock.advance(999);
	assert.equal(net.conns.length, 1);
	clock.advance(1);
	assert.equal(net.last().name, 'websocket');
	assert.equal(net.last().url, 'ws://h/sub/c?since=101');
	assert.ok(events.some((x) => x.type === 'close' && x.willRetry && x.code === 1001));
});

test('a server that is down: every transport fails, then backoff, then the best again', async () => {
	const { clock, net, events, e } = setup();
	e.start();
	await flush();
	const delays = [];
	for (let round = 0; round < 4; round++) {
		for (const t of ['websocket', 'sse', 'longpoll']) {
			assert.equal(net.last().name, t, `round ${round}`);
			net.last().h.close({ reason: 'refused' });
		}
		assert.equal(e.state, 'waiting');
		const n = net.conns.length;
		const t0 = clock.now();
		while (net.conns.length === n)
			clock.advance(100);
		delays.push(clock.now() - t0);
	}
	assert.deepEqual(delays, [1000, 2000, 4000, 8000]);
	// Back up: WebSocket first, nothing demoted, and the delays start again.
	net.last().h.open({});
	net.last().h.item(item(101));
	assert.equal(e.transport, 'websocket');
	assert.equal(e.demoted.size, 0);
	assert.equal(e.backoff.attempts, 0);
	assert.ok(events.filter((x) => x.type === 'error').length >= 12);
});

test('a 400 is final: no retry, a fatal error', async () => {
	const { clock, net, events, e } = setup({ transports: ['sse'] });
	e.start();
	await flush();
	net.last().h.close({ reason: 'sse: HTTP 400 bad channel list', status: 400, fatal: true });
	clock.advance(3600000);
	assert.equal(net.conns.length, 1);
	assert.equal(e.state, 'failed');
	assert.ok(events.some((x) => x.type === 'error' && x.fatal));
});

test('ids that start again are delivered, with a reset event', async () => {
	const { net, events, e } = setup({ cursor: new Cursor(500) });
	e.start();
	net.last().h.open({});
	net.last().h.item(item(1));
	net.last().h.item(item(2));
	assert.deepEqual(ids(events), [1, 2]);
	assert.equal(events.filter((x) => x.type === 'reset').length, 1);
});

test('gaps and bad items are surfaced, not hidden', async () => {
	const { net, events, e } = setup({ cursor: new Cursor(5) });
	e.start();
	net.last().h.open({});
	net.last().h.item(JSON.stringify({ type: 'gap', first_id: 6, next_id: 50, lost: 3 }));
	net.last().h.item('{not json');
	net.last().h.item(item(50));
	assert.deepEqual(types(events), ['open:websocket', 'gap', 'error:websocket', 'message']);
	assert.equal(e.cursor.lastId, 50);
});

test('long-poll: each poll from the cursor; next moves it without a message', async () => {
	const { net, events, e } = setup({ transports: ['longpoll'], cursor: new Cursor(7) });
	e.start();
	const lp = net.last();
	assert.equal(lp.h.url(), 'http://h/sub/c?since=7');
	lp.h.open({});
	lp.h.activity();
	lp.h.item({ id: 9, channel: 'c', data: 'x' });
	lp.h.next(12);
	assert.equal(lp.h.url(), 'http://h/sub/c?since=12');
	assert.deepEqual(ids(events), [9]);
});

test('offline: no retries until online, then one at once', async () => {
	const { clock, net, e } = setup();
	e.start();
	await flush();
	net.last().h.open({});
	net.last().h.item(item(101));
	e.setOnline(false);
	net.last().h.close({ code: 1006 });
	clock.advance(3600000);
	assert.equal(e.state, 'offline');
	const n = net.conns.length;
	e.setOnline(true);
	assert.equal(net.conns.length, n + 1);
	assert.equal(net.last().url, 'ws://h/sub/c?since=101');
});

test('a page that becomes visible retries at once instead of waiting out the backoff', async () => {
	const { net, e } = setup();
	e.start();
	await flush();
	for (let i = 0; i < 3; i++)
		net.last().h.close({ reason: 'refused' });
	assert.equal(e.state, 'waiting');
	const n = net.conns.length;
	e.wake();
	assert.equal(net.conns.length, n + 1);
});

test('a pin the server refuses (4xx) is skipped; one that fails is retried', async () => {
	let calls = 0;
	const refuse = () => {
		calls++;
		const err = new Error('HTTP 403');
		err.fatal = true;
		return Promise.reject(err);
	};
	const a = setup({}, refuse);
	a.e.start();
	await flush();
	assert.equal(a.net.last().url, 'ws://h/sub/c');
	assert.ok(a.events.some((x) => x.type === 'error' && x.reason === 'pin'));
	const b = setup({}, () => (++calls === 2 ? Promise.reject(new Error('down')) : Promise.resolve(9)));
	b.e.start();
	await flush();
	assert.equal(b.e.state, 'waiting');
	b.clock.advance(1000);
	await flush();
	assert.equal(b.net.last().url, 'ws://h/sub/c?since=9');
});

test('stop closes everything and says so once', async () => {
	const { clock, net, events, e } = setup();
	e.start();
	await flush();
	net.last().h.open({});
	e.stop();
	e.stop();
	assert.equal(net.live().length, 0);
	net.last().h.item(item(101));
	net.last().h.close({});
	clock.advance(3600000);
	assert.deepEqual(types(events), ['open:websocket', 'close:websocket']);
	assert.equal(events[1].willRetry, false);
	assert.equal(net.conns.length, 1);
});
