// The Janus side of the QoE bench: Debian's Janus 1.1.2 with its videoroom in
// the server namespace (config from bench/qoe/janus/*.in), the teacher and the
// classroom driven by bench/qoe/janus-client.js in a page the bench serves
// itself: intercepted in the browser at Janus's own origin, so the API calls
// are same-origin (Chromium's private-network checks refuse them from
// http://localhost here), and made a secure context for getUserMedia by a flag
// (ORIGINS, passed to the browsers by qoe.mjs).

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ADDR, spawnIn } from './topology.mjs';

const HERE = new URL('..', import.meta.url).pathname;
const PORT = 8088;
const ROOM = 1234;
const PAGE = '/janus-bench';
export const JANUS_ORIGINS = [ADDR.srvPub, ADDR.srvCls].map((a) => `http://${a}:${PORT}`);
const HTML = '<!doctype html><meta charset="utf-8"><title>janus bench</title>';

function janusLibDir() {
	try {
		const conf = execFileSync('sed', ['-n', 's/^[[:space:]]*plugins_folder = "\\(.*\\)\\/plugins".*/\\1/p',
			'/etc/janus/janus.jcfg'], { encoding: 'utf8' }).trim();
		if (conf)
			return conf;
	} catch { /* fall through */ }
	return '/usr/lib/x86_64-linux-gnu/janus';
}

async function writeConfig(dir) {
	const fill = {
		DIR: dir, LIBDIR: janusLibDir(), IFACE: 'kq-sp,kq-sc', HTTP_IP: '0.0.0.0', IP: ADDR.srvPub,
		HTTP_PORT: String(PORT), DEBUG_LEVEL: process.env.JANUS_DEBUG_LEVEL || '3', ROOM: String(ROOM),
	};
	for (const f of ['janus.jcfg', 'janus.transport.http.jcfg', 'janus.plugin.videoroom.jcfg']) {
		const text = await readFile(join(HERE, 'janus', `${f}.in`), 'utf8');
		await writeFile(join(dir, f), text.replace(/@([A-Z_]+)@/g, (m, k) => fill[k] ?? m));
	}
}

/** Serves the blank page and the client script to @page, then loads them. */
async function openClient(page, origin) {
	const client = await readFile(join(HERE, 'janus-client.js'), 'utf8');
	await page.route(`${origin}${PAGE}`, (route) => route.fulfill({ contentType: 'text/html', body: HTML }));
	await page.goto(`${origin}${PAGE}`);
	await page.addScriptTag({ content: client });
}

/** Waits for @proc (Janus: its log is block-buffered in a pipe, so not its
 * output) to listen on TCP @port, read from its namespace's /proc/PID/net/tcp. */
async function listening(proc, port, ms = 20000) {
	const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
	const until = Date.now() + ms;
	let exited = false;
	proc.exited.then(() => { exited = true; });
	while (Date.now() < until && !exited) {
		const tcp = await readFile(`/proc/${proc.child.pid}/net/tcp`, 'utf8').catch(() => '');
		if (tcp.split('\n').some((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(hex) && f[3] === '0A'; }))
			return;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`janus is not listening on ${port}:\n${proc.output().slice(-3000)}`);
}

export async function startJanus(topo, { size }) {
	const dir = await mkdtemp(join(tmpdir(), 'kt-qoe-janus-'));
	await writeConfig(dir);
	const proc = spawnIn(topo.ns.srv, 'janus', ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'],
		{ echo: !!process.env.KT_QOE_VERBOSE });
	await listening(proc, PORT);
	const [width, height] = size.split('x').map(Number);
	let feed = null;

	return {
		name: 'janus',
		publisherPc: 'ktJanusPublishPc',
		async publish(page) {
			await openClient(page, JANUS_ORIGINS[0]);
			feed = await page.evaluate(([url, room, w, h]) => window.ktJanusPublish(url,
				{ room, width: w, height: h }), [`${JANUS_ORIGINS[0]}/janus`, ROOM, width, height]);
		},
		/** Watches at Janus's default layer (what a videoroom subscriber gets). */
		async watch(page) {
			await openClient(page, JANUS_ORIGINS[1]);
			await page.evaluate(([url, room, f]) => window.ktJanusWatch(url, { room, feed: f }),
				[`${JANUS_ORIGINS[1]}/janus`, ROOM, feed]);
			return 'ktJanusWatchPc';
		},
		log: () => proc.output(),
		async stop() {
			proc.child.kill('SIGTERM');
			const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
			await proc.exited;
			clearTimeout(timer);
			await rm(dir, { recursive: true, force: true });
		},
	};
}
