// SPDX-License-Identifier: GPL-2.0
// Uses of push.d.ts that must type-check (test/types.test.js runs tsc on it).
import PushClientDefault, { PushClient, WS_PROTOCOLS } from '../push.js';
import type { PushMessageEvent, Transport } from '../push.js';

const sub = new PushClient('', { channels: ['chat'], transports: ['websocket', 'sse', 'longpoll'],
	since: 'oldest' });
const off = sub.on('message', (m: PushMessageEvent) => {
	const id: number = m.id;
	const text: string | undefined = m.data;
	console.log(id, text, m.channel, m.time, m.dataBase64, m.item.id);
});
sub.on('gap', (g) => console.log(g.firstId, g.nextId, g.lost, g.item.type));
sub.on('open', (e) => {
	const t: Transport = e.transport;
	console.log(t, e.previous);
});
sub.addEventListener('close', (e) => console.log(e.willRetry, e.reason, e.code));
sub.on('error', (e) => console.log(e.reason, e.fatal, e.transport));
sub.on('role', (e) => console.log(e.leader));
off();
const last: number | null = sub.lastId;
console.log(last, sub.transport, sub.leader, sub.state, sub.channels, WS_PROTOCOLS.length);
new PushClientDefault('/push', { channels: 'a,b', since: 12, shared: false, election: 'broadcast',
	connectTimeout: 5000, heartbeat: 15, pollTimeout: 30, upgradeMin: 1, upgradeMax: 2,
	backoffMin: 1, backoffMax: 2, onmessage: (m) => console.log(m.data) });
sub.close();
