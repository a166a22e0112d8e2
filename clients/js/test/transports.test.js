// SPDX-License-Identifier: GPL-2.0
// Unit tests of push/transports.js: the fetch-based SSE and long-poll
// transports and the pin, against a local node:http server that answers as
// pushd does (docs/HTTP.md); the WebSocket one against a fake WebSocket.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';

import { WS_PROTOCOLS, openTransport, pinNow } from '../push/transports.js';

const servers = [];
// A test that fails leaves its server open: close them all, or the file never ends.
after(() => Promise.all(servers.map((s) => s.close())));

/** A server whose answers the test writes; resolves to {base, reqs, close()}. */
function server(handler) {
	return new Promise((resolve) => {
		const reqs = [];
		const srv = http.createServer((req, res) => {
			reqs.push(req);
			handler(req, res, reqs.length);
		});
		let closed = null;
		const s = {
			reqs,
			close: () => {
				if (!closed) {
					srv.closeAllConnections && srv.closeAllConnections();
					closed = new Promise((r) => srv.close(r));
				}
				return closed;
			},
		};
		servers.push(s);
		srv.listen(0, '127.0.0.1', () => {
			s.base = `http://127.0.0.1:${srv.address().port}`;
			resolve(s);
		});
	});
}

/** Handlers that record what a transport reports; done resolves at close. */
function recorder(url) {
	const log = [];
	let resolveDone;
	const done = new Promise((r) => {
		resolveDone = r;
	});
	const waiters = [];
	const push = (x) => {
		log.push(x);
		for (const w of waiters.splice(0))
			w();
	};
	const h = {
		url: typeof url === 'function' ? url : () => url,
		open: (info) => push(['open', info]),
		item: (obj) => push(['item', typeof obj === 'string' ? JSON.parse(obj) : obj]),
		next: (id) => push(['next', id]),
		activity: () => push(['activity']),
		close: (info) => {
			push(['close', info]);
			resolveDone(info);
		},
	};
	/** Resolves once the log has n entries (bounded by the test's own timeout). */
	const until = (n) => new Promise((r) => {
		const check = () => (log.length >= n ? r() : waiters.push(check));
		check();
	});
	return { h, log, done, until };
}

const P = { connectTimeout: 4000, pollTimeout: 30 };

test('SSE: opens on the first bytes, not the headers; items, heartbeats, close event', { timeout: 10000 }, async () => {
	let res;
	const s = await server((req, r) => {
		assert.equal(req.headers.accept, 'text/event-stream');
		r.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
		r.flushHeaders();
		res = r;
	});
	const rec = recorder(`${s.base}/sub/c?since=3`);
	openTransport('sse', rec.h, P);
	for (let i = 0; !res && i < 1000; i++)
		await new Promise((r) => setTimeout(r, 5));
	await new Promise((r) => setTimeout(r, 50));
	assert.deepEqual(rec.log, [], 'headers alone are not an open stream');
	res.write('retry: 2000\n\n');
	await rec.until(1);
	res.write('id: 4\ndata: {"id":4,"channel":"c","data":"x"}\n\nevent: gap\n');
	res.write('data: {"type":"gap","first_id":5,"next_id":9,"lost":1}\n\n');
	await rec.until(4);
	res.write(': hb\n\n');
	res.write('event: close\ndata: {"reason":"shutdown"}\n\n');
	const info = await rec.done;
	assert.equal(s.reqs[0].url, '/sub/c?since=3');
	assert.deepEqual(rec.log.slice(0, 4), [
		['open', {}],
		['activity'],
		['item', { id: 4, channel: 'c', data: 'x' }],
		['item', { type: 'gap', first_id: 5, next_id: 9, lost: 1 }],
	]);
	assert.equal(info.server, true);
	assert.match(info.reason, /shutdown/);
	await s.close();
});

test('SSE: a 400 is fatal, a 502 or a non-stream answer is not', { timeout: 10000 }, async () => {
	const answers = [[400, 'text/plain', 'bad channel list'], [502, 'text/html', 'bad gateway'],
		[200, 'application/json', '{}']];
	const s = await server((req, r, n) => {
		const [st, type, body] = answers[n - 1];
		r.writeHead(st, { 'Content-Type': type });
		r.end(body);
	});
	const infos = [];
	for (let i = 0; i < answers.length; i++) {
		const rec = recorder(`${s.base}/sub/c`);
		openTransport('sse', rec.h, P);
		infos.push(await rec.done);
		assert.deepEqual(rec.log.map((x) => x[0]), ['close']);
	}
	assert.equal(infos[0].fatal, true);
	assert.match(infos[0].reason, /HTTP 400 bad channel list/);
	assert.equal(infos[1].fatal, false);
	assert.equal(infos[1].status, 502);
	assert.match(infos[2].reason, /not an event stream/);
	await s.close();
});

test('SSE: close() aborts the stream and reports nothing more', { timeout: 10000 }, async () => {
	let res;
	const s = await server((req, r) => {
		r.writeHead(200, { 'Content-Type': 'text/event-stream' });
		r.write('retry: 2000\n\n');
		res = r;
	});
	const rec = recorder(`${s.base}/sub/c`);
	const t = openTransport('sse', rec.h, P);
	await rec.until(1);
	t.close();
	res.write('data: {"id":1,"channel":"c"}\n\n');
	await new Promise((r) => setTimeout(r, 100));
	assert.deepEqual(rec.log.map((x) => x[0]), ['open']);
	await s.close();
});

test('long-poll: one poll after the other, each from the position the engine gives', { timeout: 10000 }, async () => {
	const bodies = [{ messages: [{ id: 5, channel: 'c', data: 'a' }, { id: 6, channel: 'c', data: 'b' }], next: 6 },
		{ messages: [], next: 9 }, { messages: [{ type: 'gap', first_id: 10, next_id: 20, lost: 2 }], next: 19 }];
	const s = await server((req, r, n) => {
		if (n > bodies.length) {
			r.writeHead(400, { 'Content-Type': 'text/plain' });
			r.end('bad since');
			return;
		}
		r.writeHead(200, { 'Content-Type': 'application/json' });
		r.end(JSON.stringify(bodies[n - 1]));
	});
	let since = 4;
	const rec = recorder(() => `${s.base}/sub/c?since=${since}`);
	const origNext = rec.h.next;
	rec.h.next = (id) => {
		since = id;
		origNext(id);
	};
	openTransport('longpoll', rec.h, P);
	const info = await rec.done;
	assert.deepEqual(s.reqs.map((r) => r.url), ['/sub/c?since=4', '/sub/c?since=6', '/sub/c?since=9',
		'/sub/c?since=19']);
	assert.deepEqual(rec.log.map((x) => x[0]), ['open', 'activity', 'item', 'item', 'next', 'activity',
		'next', 'activity', 'item', 'next', 'close']);
	assert.equal(info.fatal, true);
	await s.close();
});

test('long-poll: a poll still waiting after a second counts as open', { timeout: 10000 }, async () => {
	const s = await server(() => {});	// never answers
	const rec = recorder(`${s.base}/sub/c`);
	const t = openTransport('longpoll', rec.h, { connectTimeout: 400, pollTimeout: 30 });
	await rec.until(1);
	assert.deepEqual(rec.log, [['open', {}]]);
	t.close();
	await s.close();
});

test('long-poll: a refused connection fails before it opens', { timeout: 10000 }, async () => {
	const s = await server(() => {});
	const base = s.base;
	await s.close();
	const rec = recorder(`${base}/sub/c`);
	openTransport('longpoll', rec.h, P);
	await rec.done;
	assert.deepEqual(rec.log.map((x) => x[0]), ['close']);
});

test('pin: last_id of /stats; 4xx is final, 5xx is not', { timeout: 10000 }, async () => {
	const answers = [[200, '{"last_id":1234,"messages_in":9}'], [403, 'no'], [503, 'busy'], [200, '{}']];
	const s = await server((req, r, n) => {
		assert.equal(req.url, '/stats');
		r.writeHead(answers[n - 1][0], { 'Content-Type': 'application/json' });
		r.end(answers[n - 1][1]);
	});
	assert.equal(await pinNow(s.base, 2000), 1234);
	await assert.rejects(pinNow(s.base, 2000), (e) => e.fatal === true && /403/.test(e.message));
	await assert.rejects(pinNow(s.base, 2000), (e) => !e.fatal && /503/.test(e.message));
	await assert.rejects(pinNow(s.base, 2000), (e) => e.fatal === true && /last_id/.test(e.message));
	await s.close();
});

test('WebSocket: the subprotocols asked for, open, text frames, the close code', { timeout: 10000 }, async () => {
	const made = [];
	class FakeWs {
		constructor(url, protocols) {
			this.url = url;
			this.protocols = protocols;
			this.protocol = '';
			made.push(this);
		}

		close(code) {
			this.closedWith = code;
		}
	}
	const rec = recorder('ws://h/sub/c?since=1');
	const t = openTransport('websocket', rec.h, P, { WebSocket: FakeWs });
	const ws = made[0];
	assert.equal(ws.url, 'ws://h/sub/c?since=1');
	assert.deepEqual(ws.protocols, WS_PROTOCOLS);
	ws.onopen();
	ws.onmessage({ data: '{"id":2,"channel":"c"}' });
	ws.onclose({ code: 1001, reason: 'shutdown', wasClean: true });
	assert.deepEqual(rec.log.map((x) => x[0]), ['open', 'item', 'close']);
	assert.deepEqual(rec.log[0][1], { heartbeats: false });	// pushd did not echo push.v1
	assert.equal(rec.log[2][1].code, 1001);
	assert.equal(rec.log[2][1].server, true);
	t.close();
	assert.equal(ws.closedWith, 1000);
	assert.equal(ws.onmessage, null);
});

test('websocket: asks for push.v1; its heartbeats arm the deadline and are items', () => {
	const made = [];
	class FakeWs {
		constructor(url, protocols) {
			this.protocols = protocols;
			this.protocol = 'push.v1';
			made.push(this);
		}

		close() {}
	}
	const rec = recorder('ws://h/sub/c');
	openTransport('websocket', rec.h, P, { WebSocket: FakeWs });
	assert.deepEqual(made[0].protocols, ['push.v1']);
	made[0].onopen();
	made[0].onmessage({ data: '{"type":"hb"}' });
	assert.deepEqual(rec.log[0], ['open', { heartbeats: true }]);
	assert.deepEqual(rec.log[1], ['item', { type: 'hb' }]);
});
