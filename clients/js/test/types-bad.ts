// SPDX-License-Identifier: GPL-2.0
// Uses of push.d.ts that must not type-check: each line below is one error
// test/types.test.js expects, by line number.
import { PushClient } from '../push.js';

const a = new PushClient('', { channels: ['a'], transports: ['comet'] });
a.on('message', (m) => m.nope);
a.on('gap', (g) => g.id);
new PushClient('', { transports: ['sse'] });
new PushClient('', { channels: ['a'], since: 'newest' });
const t: 'sse' = a.transport;
