// The web pages on their own, without ketang: web/ is served by a small mock
// (same CSP as the server) whose WHIP/WHEP answers come from a relay page in
// the same browser. Checks the pages load cleanly under the CSP, the join
// form, the WHIP/WHEP client (headers, non-trickle offer, Location, DELETE),
// error display and the viewer's automatic reconnect.
//
// Run inside tests/netns-run.sh like every media test.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { startMockServer } from './lib/mock-server.mjs';
import { inboundStats, openWatcher, startPublisher, timeToFirstFrame, waitForState }
	from './lib/pages.mjs';

await loadPlaywright(); // fails clearly when tests/e2e/node_modules is missing

// The relay: a browser page that answers a WHIP offer by receiving its
// tracks and a WHEP offer by sending those tracks on.
async function installRelay(page) {
	await page.evaluate(() => {
		const tracks = {};
		const gather = (pc) => new Promise((resolve) => {
			if (pc.iceGatheringState === 'complete')
				return resolve();
			pc.addEventListener('icegatheringstatechange', () => {
				if (pc.iceGatheringState === 'complete')
					resolve();
			});
		});
		window.relayAnswer = async (kind, sdp) => {
			const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
			pc.ontrack = (e) => {
				tracks[e.track.kind] = e.track;
				// Chrome only pulls remote audio that something plays.
				const sink = document.createElement(e.track.kind);
				sink.muted = true;
				sink.srcObject = new MediaStream([e.track]);
				sink.play().catch(() => {});
				document.body.append(sink);
			};
			await pc.setRemoteDescription({ type: 'offer', sdp });
			if (kind === 'whep') {
				for (const t of pc.getTransceivers()) {
					t.direction = 'sendonly';
					await t.sender.replaceTrack(tracks[t.receiver.track.kind] || null);
				}
			}
			await pc.setLocalDescription(await pc.createAnswer());
			await gather(pc);
			return pc.localDescription.sdp;
		};
	});
}

describe('web pages (mock server)', () => {
	let browser;
	let mock;
	let relay;
	let failNextWhep = 0;

	before(async () => {
		browser = await launchBrowser();
		mock = await startMockServer(async ({ kind, lesson, sdp }) => {
			if (lesson === 'denied')
				return { status: 401, body: '{"error":"bad_token","message":"token expired"}' };
			if (kind === 'whep' && failNextWhep > 0) {
				failNextWhep--;
				return { status: 503, body: '{"error":"busy","message":"try later"}' };
			}
			return { status: 201, body: await relay.evaluate(([k, s]) => window.relayAnswer(k, s), [kind, sdp]) };
		});
		relay = await browser.newPage('relay');
		await relay.goto(`${mock.origin}/`);
		await installRelay(relay);
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (mock)
			await mock.close();
	});

	it('landing page loads under the CSP and links to the pages', async () => {
		const page = await browser.newPage('index');
		await page.goto(`${mock.origin}/`);
		const links = await page.$$eval('a', (as) => as.map((a) => a.getAttribute('href')));
		assert.ok(links.includes('/publish') && links.includes('/watch'), String(links));
		await page.close();
	});

	it('publish page asks for the join link when the fragment has none', async () => {
		const page = await browser.newPage('teacher-form');
		await page.goto(`${mock.origin}/publish`);
		await page.waitForSelector('#join-form:not([hidden])');
		assert.equal(await page.isDisabled('#start'), true);
		await page.fill('#join-token', `${mock.origin}/publish#lesson=L7&token=abc.def`);
		await page.click('#join-form button[type=submit]');
		await page.waitForFunction(() => !document.getElementById('start').disabled);
		assert.equal(await page.textContent('#lesson-id'), 'L7');
		assert.match(page.url(), /#lesson=L7&token=abc.def$/);
		await page.close();
	});

	let teacher;
	it('publish page sends through WHIP with a complete offer', async () => {
		teacher = await browser.newPage('teacher');
		await startPublisher(teacher, mock.origin, 'L1', 'tok-teacher');
		const post = mock.requests.find((r) => r.method === 'POST' && r.path === '/whip/L1');
		assert.ok(post, 'no WHIP POST seen');
		assert.equal(post.headers['content-type'], 'application/sdp');
		assert.equal(post.headers.authorization, 'Bearer tok-teacher');
		assert.match(post.body, /^v=0/);
		assert.match(post.body, /a=candidate:/, 'offer has no ICE candidate (non-trickle)');
		assert.equal((post.body.match(/^a=sendonly/mg) || []).length, 2);
		assert.match(post.body, /^m=video[^]*^m=audio/m);
		const where = await teacher.evaluate(() => window.ketang.location);
		assert.equal(where, `${mock.origin}/whip/L1/s1`);
		assert.match(await teacher.textContent('#status'), /Live/);
	});

	it('viewer receives through WHEP, plays and reports time to first frame', async () => {
		const page = await browser.newPage('watch');
		await openWatcher(page, mock.origin, 'L1', 'tok-viewer');
		const ms = await timeToFirstFrame(page);
		console.log(`time-to-first-frame (mock relay) decoded_ms=${Math.round(ms.decoded)} shown_ms=${Math.round(ms.shown)}`);
		await waitForState(page, 'live');
		const first = await inboundStats(page);
		await new Promise((r) => setTimeout(r, 1500));
		const later = await inboundStats(page);
		assert.ok(later.video.framesDecoded > first.video.framesDecoded, 'video stalled');
		assert.ok(later.audio && later.audio.packetsReceived > 0, `no audio: ${JSON.stringify(later)}`);
		const post = mock.requests.find((r) => r.method === 'POST' && r.path === '/whep/L1');
		assert.equal((post.body.match(/^a=recvonly/mg) || []).length, 2);
		assert.equal(await page.evaluate(() => document.getElementById('video').muted), true);
		await page.click('#unmute');
		assert.equal(await page.evaluate(() => document.getElementById('video').muted), false);
		assert.match(await page.textContent('#unmute'), /Mute/);
		await page.close();
	});

	it('viewer retries by itself after a failed POST', async () => {
		failNextWhep = 1;
		const page = await browser.newPage('watch-retry');
		await openWatcher(page, mock.origin, 'L1', 'tok-viewer');
		await page.waitForFunction(() => window.ketang.reconnects >= 1);
		assert.match(await page.textContent('#status'), /try later/);
		await waitForState(page, 'live', 20000);
		await page.close();
	});

	it('a refused token shows the server message and stops', async () => {
		const page = await browser.newPage('teacher-denied');
		await page.goto(`${mock.origin}/publish#lesson=denied&token=old`);
		await page.waitForFunction(() => !document.getElementById('start').disabled);
		await page.click('#start');
		await waitForState(page, 'failed');
		const status = await page.textContent('#status');
		assert.match(status, /令牌/);
		assert.match(status, /token expired/);
		await page.close();
	});

	it('stop sends DELETE to the session Location', async () => {
		await teacher.click('#stop');
		await waitForState(teacher, 'stopped');
		await teacher.waitForFunction(() => !document.getElementById('preview').srcObject);
		const deadline = Date.now() + 5000;
		while (!mock.requests.some((r) => r.method === 'DELETE' && r.path === '/whip/L1/s1') &&
		       Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 100));
		const del = mock.requests.find((r) => r.method === 'DELETE' && r.path === '/whip/L1/s1');
		assert.ok(del, 'no DELETE on the Location');
		assert.equal(del.headers.authorization, 'Bearer tok-teacher');
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
