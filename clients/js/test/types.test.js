// SPDX-License-Identifier: GPL-2.0
// push.d.ts against TypeScript (Debian's node-typescript): the uses in
// types-ok.ts compile, each line of types-bad.ts from line 6 on is an error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TSC = '/usr/bin/tsc';
const FLAGS = ['--noEmit', '--strict', '--target', 'es2020', '--module', 'es2020',
	'--moduleResolution', 'node', '--lib', 'es2020,dom', '--pretty', 'false'];

function tsc(file) {
	const r = spawnSync(TSC, [...FLAGS, join(here, file)], { encoding: 'utf8', timeout: 120000 });
	return { status: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

test('push.d.ts: the documented uses type-check', { skip: !existsSync(TSC) && 'no tsc', timeout: 150000 }, () => {
	const r = tsc('types-ok.ts');
	assert.equal(r.status, 0, r.out);
});

test('push.d.ts: wrong uses are errors, one per line', { skip: !existsSync(TSC) && 'no tsc', timeout: 150000 }, () => {
	const r = tsc('types-bad.ts');
	assert.notEqual(r.status, 0);
	const lines = [...r.out.matchAll(/types-bad\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
	assert.deepEqual([...new Set(lines)], [6, 7, 8, 9, 10, 11], r.out);
});
