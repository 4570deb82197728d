// The bench's network: three private namespaces joined by veth pairs,
//   pub (teacher's browser) --clean-- srv (Ketang, Janus) --PROFILE-- cls (classroom's browser)
// made and shaped with tests/netem/netem.sh. Only these namespaces are
// touched; no packet leaves them.

import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const NETEM = join(ROOT, 'tests/netem/netem.sh');

export const ADDR = { srvPub: '10.83.1.1', pub: '10.83.1.2', srvCls: '10.83.2.1', cls: '10.83.2.2' };

export async function netem(...args) {
	const { stdout } = await run(NETEM, args, { env: { ...process.env, KT_NETEM_BIN: netemBin() } });
	return stdout;
}

function netemBin() {
	return process.env.KT_NETEM_BIN || join(ROOT, 'build/tests/netem');
}

/** Reads a profile's figures: { down_kbit, up_kbit, rtt_ms, jitter_ms, loss_pct }. */
export async function profile(name) {
	const line = (await netem('show', name)).trim();
	return Object.fromEntries(line.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
}

/** Makes the namespaces; returns { ns: {srv, pub, cls}, shape(p), rate(kbit), destroy() }. */
export async function makeTopology() {
	const id = `ktq${process.pid % 100000}`;
	const ns = { srv: `${id}s`, pub: `${id}p`, cls: `${id}c` };
	const state = await mkdtemp(join(tmpdir(), 'kt-qoe-netem-'));
	process.env.KT_NETEM_STATE = state;
	await netem('veth', ns.srv, 'kq-sp', `${ADDR.srvPub}/24`, ns.pub, 'kq-ps', `${ADDR.pub}/24`);
	await netem('veth', ns.srv, 'kq-sc', `${ADDR.srvCls}/24`, ns.cls, 'kq-cs', `${ADDR.cls}/24`);
	return {
		ns,
		shape: (p) => netem('apply', p, ns.srv, 'kq-sc', ns.cls, 'kq-cs'),
		rate: (kbit) => netem('rate', ns.srv, 'kq-sc', String(kbit)),
		clear: async () => {
			await netem('clear', ns.srv, 'kq-sc');
			await netem('clear', ns.cls, 'kq-cs');
		},
		destroy: async () => {
			await netem('destroy', ns.srv, ns.pub, ns.cls);
			await rm(state, { recursive: true, force: true });
		},
	};
}

/** A spawned process inside namespace @ns; output kept for error reports. */
export function spawnIn(ns, cmd, args, { echo = false } = {}) {
	const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	for (const s of [child.stdout, child.stderr]) {
		s.setEncoding('utf8');
		s.on('data', (d) => {
			output += d;
			if (output.length > 200000)
				output = output.slice(-100000);
			if (echo)
				process.stderr.write(d);
		});
	}
	const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
	return { child, exited, output: () => output };
}

/** Waits until @re matches the process's output (or it exits, or @ms pass). */
export function waitOutput(proc, re, ms = 20000) {
	return new Promise((resolveP, reject) => {
		const timer = setInterval(() => {
			const m = re.exec(proc.output());
			if (m) {
				clearInterval(timer);
				clearTimeout(limit);
				resolveP(m);
			}
		}, 50);
		const limit = setTimeout(() => {
			clearInterval(timer);
			reject(new Error(`no ${re} within ${ms} ms:\n${proc.output().slice(-3000)}`));
		}, ms);
		proc.exited.then(({ code, signal }) => {
			clearInterval(timer);
			clearTimeout(limit);
			reject(new Error(`exited (${code}, ${signal}) before ${re}:\n${proc.output().slice(-3000)}`));
		});
	});
}

/** A chromium launcher script that runs Debian's chromium inside @ns
 * (playwright talks to it over pipes, which cross namespaces). */
export async function chromiumIn(ns, dir) {
	const path = join(dir, `chromium-${ns}`);
	const chromium = process.env.KETANG_CHROMIUM || '/usr/bin/chromium';
	await writeFile(path, `#!/bin/sh\nexec ip netns exec ${ns} ${chromium} "$@"\n`);
	await chmod(path, 0o755);
	return path;
}
