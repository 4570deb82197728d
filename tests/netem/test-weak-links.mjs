// The short version of the QoE bench (issue 5) that ctest keeps: a classroom's
// Chromium behind `weak` and then `lossy-20` watches the simulcast teacher
// (the real /publish and /watch pages, three namespaces, bench/qoe) for 20 s
// each. Under `weak` (300 kbit/s) it must be sent a layer below the top one
// and its audio must keep playing; under `lossy-20` (20 % random loss) its
// audio must keep playing. The full figures and the targets are the bench's
// (bench/qoe/README.md).
//
//   node --test tests/netem/test-weak-links.mjs   (root; KETANG_BIN, KT_NETEM_BIN)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SECONDS = 20;
const QOE = new URL('../../bench/qoe/qoe.mjs', import.meta.url).pathname;

test('weak and lossy-20: the layer drops, audio keeps flowing', { timeout: 280000 }, async () => {
	const dir = await mkdtemp(join(tmpdir(), 'kt-weak-links-'));
	try {
		const json = join(dir, 'qoe.json');
		const { stdout, stderr } = await run('node', [QOE, '--profiles', 'weak,lossy-20',
			'--seconds', String(SECONDS), '--servers', 'ketang', '--size', '1280x720', '--json', json],
		{ maxBuffer: 16 * 1024 * 1024, timeout: 260000 }).catch((err) => {
			err.message += `\n${err.stderr || ''}`;
			throw err;
		});
		process.stdout.write(stdout);
		if (process.env.KT_QOE_VERBOSE)
			process.stderr.write(stderr);
		const rows = JSON.parse(await readFile(json, 'utf8'));
		const by = Object.fromEntries(rows.map((r) => [r.profile, r]));
		const { weak, 'lossy-20': lossy } = by;

		// The teacher sends 1280x720, 640x360 and 320x180; 300 kbit/s carries
		// only the lowest (audio first), whatever the estimate tried on the way.
		assert.ok(weak.height && weak.height < 720, `weak: shown mostly at ${weak.resolution}`);
		// Audio keeps flowing: played all along, most of it real. The bench holds
		// the targets (2 % and 5 % concealed); one 20 s run varies too much for them
		// (lossy-20 measured 2.6, 3.4 and 32 % in three runs here).
		for (const [name, r, maxConcealed] of [['weak', weak, 40], ['lossy-20', lossy, 40]]) {
			assert.ok(r.audioS >= 0.8 * SECONDS,
				`${name}: ${r.audioS.toFixed(1)} s of audio played in ${SECONDS} s`);
			assert.ok(r.concealedPct < maxConcealed,
				`${name}: ${r.concealedPct.toFixed(1)} % of the audio concealed`);
		}
		assert.ok(weak.framesDecoded > 0, 'weak: no video frame decoded at all');
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
});
