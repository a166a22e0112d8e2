// SPDX-License-Identifier: GPL-2.0
// Unit tests of push/url.js and push/backoff.js: node --test.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Backoff } from '../push/backoff.js';
import { normBase, normChannels, normSince, normTransports, shareKey, statsUrl, subUrl }
	from '../push/url.js';

test('channel lists: duplicates dropped, order kept, strings split', () => {
	assert.deepEqual(normChannels(['b', 'a', 'b']), ['b', 'a']);
	assert.deepEqual(normChannels('x,y.z,x'), ['x', 'y.z']);
	assert.deepEqual(normChannels(['A-Za_z0.9:']), ['A-Za_z0.9:']);
});

test('bad channel lists throw before any request', () => {
	for (const bad of [[], '', ['a b'], ['a/b'], ['%41'], [''], ['x'.repeat(65)], [1], null, 'a,,b'])
		assert.throws(() => normChannels(bad), TypeError, JSON.stringify(bad));
	const many = Array.from({ length: 65 }, (_, i) => 'c' + i);
	assert.throws(() => normChannels(many), /65 channels, at most 64/);
	assert.equal(normChannels(many.slice(0, 64)).length, 64);
	assert.equal(normChannels(['x'.repeat(64)])[0].length, 64);
});

test('transport lists', () => {
	assert.deepEqual(normTransports(undefined), ['websocket', 'sse', 'longpoll']);
	assert.deepEqual(normTransports(['sse', 'longpoll']), ['sse', 'longpoll']);
	assert.throws(() => normTransports(['sse', 'sse']), /twice/);
	assert.throws(() => normTransports(['comet']), /unknown transport/);
	assert.throws(() => normTransports([]), TypeError);
});

test('since: null, oldest or an id', () => {
	assert.equal(normSince(undefined), null);
	assert.equal(normSince(null), null);
	assert.equal(normSince('oldest'), 'oldest');
	assert.equal(normSince(0), 0);
	assert.equal(normSince(123), 123);
	for (const bad of [-1, 1.5, '12', 'newest', 2 ** 53, NaN])
		assert.throws(() => normSince(bad), TypeError, String(bad));
});

test('base URLs: absolute, relative to the page, trailing slashes and queries dropped', () => {
	assert.equal(normBase('http://h:8080/'), 'http://h:8080');
	assert.equal(normBase('https://h/push//?x=1#y'), 'https://h/push');
	assert.equal(normBase('', 'https://app.example/page/x.html'), 'https://app.example');
	assert.equal(normBase('/push', 'https://app.example/page/x.html'), 'https://app.example/push');
	assert.throws(() => normBase('ftp://h/'), /http\(s\)/);
	assert.throws(() => normBase('/relative'), /bad base URL/);
});

test('subscription URLs: one per channel list, since, ws scheme for WebSocket', () => {
	const ch = ['a', 'b'];
	assert.equal(subUrl('http://h:1', ch, 'sse', null), 'http://h:1/sub/a,b');
	assert.equal(subUrl('http://h:1', ch, 'longpoll', 0), 'http://h:1/sub/a,b?since=0');
	assert.equal(subUrl('http://h:1', ch, 'websocket', 42), 'ws://h:1/sub/a,b?since=42');
	assert.equal(subUrl('https://h/p', ['c'], 'websocket', 'oldest'), 'wss://h/p/sub/c?since=oldest');
	assert.equal(statsUrl('https://h/p'), 'https://h/p/stats');
});

test('the share key names the set of channels, not their order', () => {
	assert.equal(shareKey('http://h', ['b', 'a']), shareKey('http://h', ['a', 'b']));
	assert.notEqual(shareKey('http://h', ['a']), shareKey('http://h', ['a', 'b']));
	assert.notEqual(shareKey('http://h', ['a']), shareKey('http://g', ['a']));
});

test('backoff: doubles from min to max, half of it random', () => {
	let r = 0;
	const b = new Backoff({ min: 1000, max: 8000, random: () => r });
	assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 4000]);
	r = 0.999999;
	b.reset();
	assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 8000]);
	r = 0.5;
	b.reset();
	assert.equal(b.next(), 750);
	assert.throws(() => new Backoff({ min: 0 }), TypeError);
	assert.throws(() => new Backoff({ min: 10, max: 5 }), TypeError);
});

test('backoff spreads clients out', () => {
	const seen = new Set();
	for (let i = 0; i < 50; i++)
		seen.add(new Backoff({ min: 1000, max: 30000 }).next());
	assert.ok(seen.size > 20, `only ${seen.size} distinct first delays`);
	for (const d of seen)
		assert.ok(d >= 500 && d <= 1000, String(d));
});
