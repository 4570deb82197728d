// Starts and stops a real `ketang serve` for a test, and mints its tokens.

import { spawn, execFile } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';

const run = promisify(execFile);
const READY = /ketang: listening on (https:\/\/\S+)/;

/** A TCP port nobody listens on right now. */
export function freePort() {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.unref();
		probe.on('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const { port } = probe.address();
			probe.close(() => resolve(port));
		});
	});
}

/** Path of the ketang binary under test, or a clear failure. */
export async function ketangBinary() {
	const bin = process.env.KETANG_BIN;
	if (!bin)
		throw new Error('KETANG_BIN is not set: run this test through ctest (make test), ' +
			'or set KETANG_BIN=/path/to/build/ketang');
	try {
		await access(bin, constants.X_OK);
	} catch {
		throw new Error(`KETANG_BIN=${bin} is not an executable: build it first (make)`);
	}
	return bin;
}

/**
 * Starts `ketang serve` on a free loopback port (or @port, e.g. to restart where the
 * pages look for it) with a temporary data dir (or @dataDir, e.g. to restart on the
 * same one; @extraConfig is appended to the config file) and waits for its
 * "listening" line. Returns { origin, port, pid, dataDir, config, token(lesson, role, ttl),
 * stop({ keepData }), kill(), log() }.
 */
export async function startServer({ readyTimeoutMs = 20000, dataDir, extraConfig = '', port } = {}) {
	const bin = await ketangBinary();
	dataDir = dataDir || await mkdtemp(join(tmpdir(), 'ketang-e2e-'));
	port = port || await freePort();
	const config = join(dataDir, 'ketang.ini');
	await writeFile(config, `[server]\nlisten=127.0.0.1:${port}\ndata_dir=${dataDir}\n` +
		'[media]\nice_addresses=127.0.0.1\n' + extraConfig);

	const child = spawn(bin, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	const exited = new Promise((resolve) => {
		child.on('exit', (code, signal) => resolve({ code, signal }));
	});
	const echo = process.env.KETANG_E2E_VERBOSE;
	for (const stream of [child.stdout, child.stderr]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk) => {
			output += chunk;
			if (echo)
				process.stderr.write(`[ketang] ${chunk}`);
		});
	}

	const origin = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(
			`ketang did not print "listening" within ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
		const check = () => {
			const match = READY.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(new URL(match[1]).origin);
			}
		};
		child.stderr.on('data', check);
		child.stdout.on('data', check);
		exited.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`ketang exited early (code ${code}, signal ${signal}):\n${output}`));
		});
	});

	async function token(lesson, role, ttl = 600) {
		const { stdout } = await run(bin, ['token', '--lesson', lesson, '--role', role,
			'--ttl', String(ttl), '--config', config, '--data-dir', dataDir]);
		const minted = stdout.trim();
		assert.ok(minted.length > 0, `ketang token printed nothing for ${lesson}/${role}`);
		return minted;
	}

	/** SIGKILL (a crash): no clean-up runs; the data dir stays. */
	async function kill() {
		child.kill('SIGKILL');
		return exited;
	}

	/** SIGTERM, then assert a clean exit (status 0) within timeoutMs. */
	async function stop({ timeoutMs = 10000, keepData = false } = {}) {
		child.kill('SIGTERM');
		let timer;
		const timeout = new Promise((resolve) => {
			timer = setTimeout(() => resolve(null), timeoutMs);
		});
		const result = await Promise.race([exited, timeout]);
		clearTimeout(timer);
		if (!result) {
			child.kill('SIGKILL');
			await exited;
		}
		if (!keepData)
			await rm(dataDir, { recursive: true, force: true });
		assert.ok(result, `ketang did not exit within ${timeoutMs} ms of SIGTERM:\n${output}`);
		assert.deepEqual(result, { code: 0, signal: null },
			`ketang exited with ${JSON.stringify(result)} after SIGTERM:\n${output.slice(-4000)}`);
	}

	return { origin, port, pid: child.pid, dataDir, config, token, stop, kill, log: () => output };
}
