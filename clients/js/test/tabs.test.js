// SPDX-License-Identifier: GPL-2.0
// Unit tests of the BroadcastChannel election in push/tabs.js (browsers
// without Web Locks): tabs on a fake bus with a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BcElection } from '../push/tabs.js';
import { Clock } from './fakes.js';

/** Tabs on one bus; a post reaches every other open tab 1 ms later, in order. */
function bus(clock) {
	const tabs = [];
	const add = (id) => {
		const tab = { id, leading: false, leads: 0, open: true };
		tab.el = new BcElection(id, {
			now: () => clock.now(),
			setTimeout: (f, ms) => clock.setTimeout(f, ms),
			clearTimeout: (h) => clock.clearTimeout(h),
			post: (m) => {
				if (!tab.open)
					return;	// a crashed tab says nothing
				for (const o of tabs)
					if (o !== tab && o.open)
						clock.setTimeout(() => o.open && o.el.receive(m), 1);
			},
		}, {
			lead: () => {
				tab.leading = true;
				tab.leads++;
			},
			follow: () => {
				tab.leading = false;
			},
		});
		tabs.push(tab);
		tab.el.start();
		return tab;
	};
	const leaders = () => tabs.filter((t) => t.open && t.leading).map((t) => t.id);
	const close = (tab) => {
		tab.el.stop();
		tab.open = false;
		tab.leading = false;
	};
	return { tabs, add, leaders, close };
}

test('a lone tab leads within a fraction of a second', () => {
	const clock = new Clock();
	const b = bus(clock);
	b.add('m');
	clock.advance(599);
	assert.deepEqual(b.leaders(), []);
	clock.advance(400);
	assert.deepEqual(b.leaders(), ['m']);
});

test('tabs opened later follow the leader; one leader however long it runs', () => {
	const clock = new Clock();
	const b = bus(clock);
	b.add('m');
	clock.advance(1000);
	b.add('a');
	b.add('z');
	for (let i = 0; i < 60; i++) {
		clock.advance(1000);
		assert.deepEqual(b.leaders(), ['m']);
	}
	assert.deepEqual(b.tabs.map((t) => t.leads), [1, 0, 0]);
});

test('tabs that start together settle on one leader, the smallest id', () => {
	const clock = new Clock();
	const b = bus(clock);
	for (const id of ['q', 'c', 'x', 'k'])
		b.add(id);
	clock.advance(2000);
	assert.deepEqual(b.leaders(), ['c']);
	clock.advance(30000);
	assert.deepEqual(b.leaders(), ['c']);
	// The others yielded to the smallest claim: none ever led, even briefly.
	assert.deepEqual(b.tabs.map((t) => t.leads), [0, 1, 0, 0]);
});

test('a leader that says bye is replaced at once; one that vanishes, after the timeout', () => {
	const clock = new Clock();
	const b = bus(clock);
	const m = b.add('m');
	clock.advance(1000);
	b.add('p');
	b.add('r');
	clock.advance(1000);
	b.close(m);	// bye
	clock.advance(400);
	assert.deepEqual(b.leaders(), ['p']);
	const p = b.tabs[1];
	p.open = false;	// its tab crashed: no bye
	p.leading = false;
	clock.advance(2000);
	assert.deepEqual(b.leaders(), []);
	clock.advance(1000);
	assert.deepEqual(b.leaders(), ['r']);
});

test('two leaders (a healed partition) resolve to one', () => {
	const clock = new Clock();
	const b = bus(clock);
	const x = b.add('x');
	const y = b.add('y');
	// Force both to lead, as if each had not heard the other.
	x.el.state = y.el.state = 'leader';
	x.leading = y.leading = true;
	clock.advance(3000);
	assert.deepEqual(b.leaders(), ['x']);
});
