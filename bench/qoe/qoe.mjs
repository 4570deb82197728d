#!/usr/bin/env node
// QoE benchmark for weak links (issue 5): a classroom in Chromium behind each
// link profile watches the teacher for SECONDS; prints what its getStats and
// its <video> element saw, for Ketang and for Janus 1.1.2 side by side.
//
//   bench/qoe/run.sh [--profiles weak,lossy-20,...] [--seconds 60] [--servers ketang,janus]
//                    [--size 640x480]
//
// See bench/qoe/README.md for the topology, what each figure means and the
// targets. Root only (network namespaces).

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { FLAGS, loadPlaywright } from '../../tests/e2e/lib/browser.mjs';
import { JANUS_ORIGINS, startJanus } from './lib/janus-side.mjs';
import { startKetang } from './lib/ketang-side.mjs';
import { summarize } from './lib/metrics.mjs';
import { chromiumIn, makeTopology, netem, profile } from './lib/topology.mjs';
import { printTable } from './lib/report.mjs';

const { values: opt } = parseArgs({
	options: {
		profiles: { type: 'string', default: 'school-shared,rural-4g,weak,lossy-20,satellite,dip' },
		seconds: { type: 'string', default: '60' },
		servers: { type: 'string', default: 'ketang,janus' },
		size: { type: 'string', default: '640x480' },
		json: { type: 'string' },
	},
});
const SECONDS = Number(opt.seconds);
// The dip: 2 Mbit/s, 250 kbit/s from DIP_AT for 20 s, then back.
const DIP = { startMs: 20000, endMs: 40000, lowKbit: 250 };

const SIDES = { ketang: startKetang, janus: startJanus };
const COLLECTOR = await readFile(new URL('./lib/collector.js', import.meta.url), 'utf8');

async function launch(ns, dir, name) {
	const { chromium } = await loadPlaywright();
	const userDataDir = await mkdtemp(join(dir, `profile-${name}-`));
	const context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: await chromiumIn(ns, dir),
		headless: true,
		ignoreHTTPSErrors: true,
		bypassCSP: true,
		args: [...FLAGS, `--unsafely-treat-insecure-origin-as-secure=${JANUS_ORIGINS.join(',')}`],
		viewport: { width: 800, height: 600 },
	});
	const page = await context.newPage();
	page.on('console', (m) => {
		if (process.env.KT_QOE_VERBOSE || m.type() === 'error')
			process.stderr.write(`[${name}] ${m.text()}\n`);
	});
	return { context, page };
}

/** In the teacher's page: what its camera sends, per simulcast layer. */
async function publisherLayers(pcPath) {
	const pc = pcPath.split('.').reduce((o, k) => (o ? o[k] : null), window);
	const out = [];
	const stats = await pc.getStats();
	stats.forEach((s) => {
		if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
			out.push(`bwe:${Math.round(s.availableOutgoingBitrate / 1000)}k`);
		if (s.type === 'outbound-rtp' && s.kind === 'video')
			out.push(`${s.rid || '-'}:${s.frameWidth || 0}x${s.frameHeight || 0}` +
				`@${Math.round(s.framesPerSecond || 0)}${s.qualityLimitationReason &&
				s.qualityLimitationReason !== 'none' ? `(${s.qualityLimitationReason})` : ''}`);
	});
	return out.sort();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One watcher run: server up, teacher live, link shaped, watch, measure. */
async function runOne(topo, dir, serverName, profileName) {
	const side = await SIDES[serverName](topo, { size: opt.size });
	const browsers = [];
	try {
		const teacher = await launch(topo.ns.pub, dir, 'teacher');
		browsers.push(teacher);
		await side.publish(teacher.page);
		await topo.shape(profileName);
		const watcher = await launch(topo.ns.cls, dir, 'classroom');
		browsers.push(watcher);
		const pcPath = await side.watch(watcher.page);
		await watcher.page.addScriptTag({ content: COLLECTOR });
		await watcher.page.evaluate((p) => window.ktQoe.start(p), pcPath);
		const dip = profileName === 'dip' ? DIP : null;
		if (dip) {
			await sleep(dip.startMs);
			await topo.rate(dip.lowKbit);
			await sleep(dip.endMs - dip.startMs);
			await topo.rate((await profile('dip')).down_kbit);
			await sleep(SECONDS * 1000 - dip.endMs);
		} else {
			await sleep(SECONDS * 1000);
		}
		const rec = await watcher.page.evaluate(() => window.ktQoe.stop());
		const sent = await teacher.page.evaluate(publisherLayers, side.publisherPc).catch(() => []);
		const counters = side.counters ? await side.counters().catch(() => ({})) : undefined;
		// KT_QOE_SAMPLES=1: every getStats sample too, in --json (to see when it went wrong).
		return { ...summarize(rec, dip), sent, counters,
			...(process.env.KT_QOE_SAMPLES ? { samples: rec.samples } : {}) };
	} catch (err) {
		err.message += `\n--- ${serverName} log (tail) ---\n${side.log().slice(-3000)}`;
		throw err;
	} finally {
		for (const b of browsers)
			await b.context.close().catch(() => {});
		await side.stop().catch(() => {});
		await topo.clear().catch(() => {});
	}
}

async function main() {
	const dir = await mkdtemp(join(tmpdir(), 'kt-qoe-'));
	const topo = await makeTopology();
	const rows = [];
	const stop = async () => {
		await topo.destroy().catch(() => {});
		await rm(dir, { recursive: true, force: true });
	};
	process.on('SIGINT', () => stop().then(() => process.exit(130)));
	try {
		for (const p of opt.profiles.split(',')) {
			await netem('show', p); // fails early on an unknown profile
			for (const s of opt.servers.split(',')) {
				if (!SIDES[s]) {
					process.stderr.write(`qoe: no side '${s}' (have: ${Object.keys(SIDES).join(', ')})\n`);
					continue;
				}
				process.stderr.write(`qoe: ${p} / ${s}: ${SECONDS} s…\n`);
				const figures = await runOne(topo, dir, s, p);
				rows.push({ profile: p, server: s, ...figures });
				printTable(rows.slice(-1), { header: rows.length === 1 });
			}
		}
		process.stdout.write('\n');
		printTable(rows, { header: true });
		if (opt.json)
			await writeFile(opt.json, JSON.stringify(rows, null, 2));
	} finally {
		await stop();
	}
}

main().catch((err) => {
	process.stderr.write(`qoe: ${err.stack || err}\n`);
	process.exit(1);
});
