// What the Chromium fault tests in tests/netem share: the three namespaces of
// bench/qoe/lib/topology.mjs with Ketang in srv (forwarding only: no recording, no HLS),
// Chromium launched inside a namespace, and the clean-up.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ADDR, ROOT, chromiumIn, makeTopology, spawnIn, waitOutput } from '../../bench/qoe/lib/topology.mjs';
import { FLAGS, loadPlaywright } from '../e2e/lib/browser.mjs';

const run = promisify(execFile);
const KETANG = process.env.KETANG_BIN || join(ROOT, 'build/ketang');
export const PORT = 8443;

/**
 * Makes the namespaces and starts Ketang in srv, listening on both of its veths, for
 * @lesson; @media is appended to its [media] section. Returns { topo, dir, ketang: { proc,
 * token(role) }, origin(side: 'pub' | 'cls'), launchIn(ns, label), close() }.
 */
export async function startLesson(name, lesson, { media = '' } = {}) {
	const dir = await mkdtemp(join(tmpdir(), `kt-${name}-`));
	const topo = await makeTopology();
	const browsers = [];
	const config = join(dir, 'ketang.ini');
	await writeFile(config, `[server]\nlisten=0.0.0.0:${PORT}\ndata_dir=${dir}/data\n` +
		`[media]\nice_addresses=${ADDR.srvPub},${ADDR.srvCls}\nice_tcp=false\n${media}` +
		// Only the forwarding is under test: no program encoder on 2 shared cores.
		'[recording]\nenabled=false\n[broadcast]\nhls=false\n');
	const proc = spawnIn(topo.ns.srv, KETANG, ['serve', '--config', config],
		{ echo: !!process.env.KETANG_E2E_VERBOSE });
	const ketang = {
		proc,
		token: async (role) => (await run(KETANG, ['token', '--lesson', lesson, '--role', role,
			'--ttl', '3600', '--config', config, '--data-dir', `${dir}/data`])).stdout.trim(),
	};
	const out = {
		topo, dir, ketang,
		origin: (side) => `https://${side === 'cls' ? ADDR.srvCls : ADDR.srvPub}:${PORT}`,

		/** One Chromium inside namespace @ns; returns its newPage(name). */
		async launchIn(ns, label) {
			const { chromium } = await loadPlaywright();
			const context = await chromium.launchPersistentContext(await mkdtemp(join(dir, `profile-${label}-`)), {
				executablePath: await chromiumIn(ns, dir),
				headless: true,
				ignoreHTTPSErrors: true,
				args: [...FLAGS, '--autoplay-policy=no-user-gesture-required'],
				viewport: { width: 800, height: 600 },
			});
			browsers.push(context);
			return async (pageName) => {
				const page = await context.newPage();
				page.on('console', (m) => {
					if (process.env.KETANG_E2E_VERBOSE || m.type() === 'error')
						process.stderr.write(`[${pageName}] ${m.text()}\n`);
				});
				return page;
			};
		},

		async close() {
			for (const b of browsers)
				await b.close().catch(() => {});
			if (process.env.KETANG_E2E_VERBOSE)
				process.stderr.write(`--- ketang ---\n${proc.output().slice(-6000)}\n`);
			proc.child.kill('SIGTERM');
			await proc.exited;
			await topo.destroy().catch(() => {});
			if (!process.env.KETANG_E2E_KEEP)
				await rm(dir, { recursive: true, force: true });
		},
	};
	try {
		await waitOutput(proc, /ketang: listening on/);
	} catch (err) {
		await out.close();
		throw err;
	}
	return out;
}
