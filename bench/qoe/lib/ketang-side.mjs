// The Ketang side of the QoE bench: `ketang serve` in the server namespace,
// the teacher publishing through the real /publish page (WHIP), the classroom
// watching through the real /watch page (WHEP).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startPublisher, openWatcher, waitForState } from '../../../tests/e2e/lib/pages.mjs';
import { ADDR, ROOT, spawnIn, waitOutput } from './topology.mjs';

const run = promisify(execFile);
const PORT = 8443;

export async function startKetang(topo, { size }) {
	const bin = process.env.KETANG_BIN || join(ROOT, 'build-release/ketang');
	const dataDir = await mkdtemp(join(tmpdir(), 'kt-qoe-ketang-'));
	const config = join(dataDir, 'ketang.ini');
	// Recording off: the bench measures the link, and the recorders' CPU would
	// compete with two browsers on two cores.
	await writeFile(config, `[server]\nlisten=0.0.0.0:${PORT}\ndata_dir=${dataDir}\n` +
		`[media]\nice_addresses=${ADDR.srvPub},${ADDR.srvCls}\nice_tcp=false\n` +
		'[recording]\nenabled=false\n');
	const proc = spawnIn(topo.ns.srv, bin, ['serve', '--config', config],
		{ echo: !!process.env.KT_QOE_VERBOSE });
	await waitOutput(proc, /ketang: listening on/);
	const lesson = 'qoe-bench';
	const token = async (role) => (await run(bin, ['token', '--lesson', lesson, '--role', role,
		'--ttl', '3600', '--config', config, '--data-dir', dataDir])).stdout.trim();
	const teacher = await token('teacher');
	const classroom = await token('classroom');

	return {
		name: 'ketang',
		publisherPc: 'ketang.pc',
		async publish(page) {
			await startPublisher(page, `https://${ADDR.srvPub}:${PORT}`, lesson, teacher,
				{ size, timeout: 30000 });
		},
		/** Opens the watcher; resolves with the path of its peer connection. */
		async watch(page) {
			// The page itself comes over the shaped link: at 20 % loss TCP's
			// retransmission timer doubles on each loss, and loading it once took
			// over playwright's 30 s, and once over 120 s (netem/weak-links): a
			// load that stalls is started again, as a user would reload. Only the
			// media is measured.
			await openWatcher(page, `https://${ADDR.srvCls}:${PORT}`, lesson, classroom,
				{ timeout: 50000, reloads: 2 });
			await page.waitForFunction(() => window.ketang && window.ketang.pc &&
				window.ketang.pc.connectionState === 'connected', null, { timeout: 60000 })
				.catch(() => waitForState(page, 'live', 1));
			return 'ketang.pc';
		},
		log: () => proc.output(),
		/** The server's counters at the end of a run (/metrics, ketang_*_total), for --json. */
		async counters() {
			const { stdout } = await run('ip', ['netns', 'exec', topo.ns.srv, 'curl', '-sk',
				`https://${ADDR.srvCls}:${PORT}/metrics`]);
			const out = {};
			for (const m of stdout.matchAll(/^ketang_(\w+)_total (\d+)$/gm))
				out[m[1]] = Number(m[2]);
			return out;
		},
		async stop() {
			proc.child.kill('SIGTERM');
			await proc.exited;
			await rm(dataDir, { recursive: true, force: true });
		},
	};
}
