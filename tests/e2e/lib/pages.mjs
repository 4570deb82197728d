// Drives the Ketang web pages (web/publish.html, web/watch.html, and the lesson pages) in a test
// browser and reads their WebRTC statistics.

/**
 * page.goto, tried again when Chromium reports net::ERR_NETWORK_CHANGED: a test that
 * has just shaped or moved its namespace's link (tests/netem) can make Chromium see a
 * network change during the navigation itself; the page is fine to load a moment later.
 *
 * @options.reloads: over a lossy link (tests/netem), how many times a load that timed out
 * is started again, as a user would press reload. At 20 % loss in both directions a TCP
 * connect fails 36 % of the time and the kernel waits 1, 2, 4 … s before each retry, so
 * one of the page's connections now and then waits more than a minute (netem/weak-links
 * once passed 120 s); a new navigation opens new connections.
 */
export async function gotoPage(page, url, { reloads = 0, ...options } = {}) {
	for (let attempt = 1, timeouts = 0; ; attempt++) {
		try {
			return await page.goto(url, options);
		} catch (err) {
			if (err.name === 'TimeoutError' && timeouts++ < reloads) {
				console.error(`gotoPage: ${url} did not load in ${options.timeout} ms; again`);
				continue;
			}
			if (attempt >= 3 || !/ERR_NETWORK_CHANGED/.test(err.message))
				throw err;
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}
}

/** Join-link fragment, as the server's admin would hand it out. */
export function joinFragment(lesson, token) {
	return `#${new URLSearchParams({ lesson, token })}`;
}

/**
 * Opens /publish (the WHIP publisher page) with the join link, picks a small camera size (the fake
 * device honours it; keeps the CPU budget of one browser) and presses start.
 * Resolves once the page reports 'live' (ICE+DTLS connected).
 */
export async function startPublisher(page, origin, lesson, token,
	{ size = '320x240', timeout = 20000, simulcast = true } = {}) {
	await gotoPage(page, `${origin}/publish${simulcast ? '' : '?simulcast=0'}${joinFragment(lesson, token)}`);
	await page.waitForFunction(() => window.ketang && !document.getElementById('start').disabled);
	await page.evaluate((value) => {
		const select = document.getElementById('quality');
		select.add(new Option(value, value, true, true));
	}, size);
	await page.click('#start');
	await waitForState(page, 'live', timeout);
}

/**
 * Opens /watch with the join link; the page connects by itself. @timeout: for the page's load
 * (playwright's default 30 s when not given); @reloads: see gotoPage.
 */
export async function openWatcher(page, origin, lesson, token, { timeout, reloads = 0 } = {}) {
	await gotoPage(page, `${origin}/watch${joinFragment(lesson, token)}`,
		timeout ? { timeout, reloads } : { reloads });
}

/** Waits for window.ketang.state; on timeout says what the page showed instead. */
export async function waitForState(page, state, timeout = 20000) {
	try {
		await page.waitForFunction((want) => window.ketang && window.ketang.state === want,
			state, { timeout });
	} catch (err) {
		const seen = await page.evaluate(() => ({
			state: window.ketang && window.ketang.state,
			error: window.ketang && window.ketang.error,
			status: document.getElementById('status').textContent,
		}));
		throw new Error(`page never reached state '${state}': ${JSON.stringify(seen)}`);
	}
}

/** Waits for the first decoded frame; returns ms from the WHEP POST to it. */
export async function timeToFirstFrame(page, timeout = 20000) {
	await page.waitForFunction(() => window.ketang && window.ketang.timings.firstFrame &&
		window.ketang.timings.firstDecoded, null, { timeout });
	return page.evaluate(() => ({
		decoded: window.ketang.timings.firstDecoded - window.ketang.timings.postStart,
		shown: window.ketang.timings.firstFrame - window.ketang.timings.postStart,
	}));
}

/** The inbound-rtp video and audio stats of the page's peer connection. */
export function inboundStats(page) {
	return page.evaluate(async () => {
		const out = { video: null, audio: null, connectionState: null };
		const pc = window.ketang.pc;
		if (!pc)
			return out;
		out.connectionState = pc.connectionState;
		(await pc.getStats()).forEach((s) => {
			if (s.type !== 'inbound-rtp')
				return;
			out[s.kind] = {
				packetsReceived: s.packetsReceived,
				framesDecoded: s.framesDecoded,
				framesDropped: s.framesDropped,
				keyFramesDecoded: s.keyFramesDecoded,
				pliCount: s.pliCount,
				frameWidth: s.frameWidth,
				frameHeight: s.frameHeight,
				totalSamplesReceived: s.totalSamplesReceived,
				totalAudioEnergy: s.totalAudioEnergy,
				audioLevel: s.audioLevel,
				timestamp: s.timestamp,
			};
		});
		return out;
	});
}

/**
 * A complete non-trickle offer made in the page: 'sendonly' (a WHIP
 * publisher) or 'recvonly' (a WHEP viewer), video then audio.
 */
export function makeOffer(page, direction) {
	return page.evaluate(async (dir) => {
		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		pc.addTransceiver('video', { direction: dir });
		pc.addTransceiver('audio', { direction: dir });
		await pc.setLocalDescription(await pc.createOffer());
		await new Promise((resolve) => {
			if (pc.iceGatheringState === 'complete')
				return resolve();
			pc.addEventListener('icegatheringstatechange', () => {
				if (pc.iceGatheringState === 'complete')
					resolve();
			});
			setTimeout(resolve, 2000);
		});
		const sdp = pc.localDescription.sdp;
		pc.close();
		return sdp;
	}, direction);
}

// ---- The lesson pages (/teacher, /classroom: the lesson WebSocket) --------

/**
 * Opens the lesson teacher page with a small camera and fake courseware (a
 * second camera track instead of screen capture), presses "Start lesson" and
 * waits until it has joined. The camera goes out as simulcast: Chromium sends
 * one layer below 480x270, two from there, three from 960x540.
 */
export async function openLessonTeacher(page, origin, lesson, token,
	{ size = '320x240', coursewareSize = '320x240', timeout = 15000 } = {}) {
	await gotoPage(page, `${origin}/teacher?fake-courseware&video=${size}&courseware-video=${coursewareSize}` +
		joinFragment(lesson, token));
	await page.waitForFunction(() => window.ketang && !document.getElementById('start').disabled);
	await page.click('#start');
	await waitForLessonState(page, 'joined', timeout);
}

/**
 * The simulcast layers a lesson page sends of its camera, by rid, from its publish
 * connection's outbound-rtp stats: { rid: { framesEncoded, packetsSent, frameHeight,
 * acked } }. acked: a remote-inbound-rtp names that layer's SSRC, i.e. Ketang's
 * receiver reports cover it, which they do only for a stream it told apart.
 */
export function cameraLayers(page) {
	return page.evaluate(async () => {
		const k = window.ketang;
		const mid = k.publishPc?.ketangSources.get('camera')?.mid;
		const out = {};
		const stats = await k.publishPc.getStats();
		const acked = new Set();
		stats.forEach((r) => {
			if (r.type === 'remote-inbound-rtp')
				acked.add(r.localId);
		});
		stats.forEach((r) => {
			if (r.type === 'outbound-rtp' && r.mid === mid && r.rid)
				out[r.rid] = { framesEncoded: r.framesEncoded || 0, packetsSent: r.packetsSent || 0,
					frameHeight: r.frameHeight || 0, acked: acked.has(r.id) };
		});
		return out;
	});
}

/** Opens a classroom's join link (small camera); the page joins by itself. */
export async function openClassroom(page, origin, lesson, token, room, { size = '320x240', timeout = 15000 } = {}) {
	const fragment = new URLSearchParams({ lesson, token, room });
	await gotoPage(page, `${origin}/classroom?video=${size}#${fragment}`);
	await waitForLessonState(page, 'joined', timeout);
}

/** Waits for window.ketang.state of a lesson page; on timeout says what it showed. */
export async function waitForLessonState(page, state, timeout = 15000) {
	try {
		// Polling, not requestAnimationFrame: background pages paint late.
		await page.waitForFunction((want) => window.ketang && window.ketang.state === want, state,
			{ timeout, polling: 50 });
	} catch {
		const seen = await page.evaluate(() => ({
			state: window.ketang && window.ketang.state,
			error: window.ketang && window.ketang.error,
			status: document.getElementById('status').textContent,
			notice: document.getElementById('notice') && document.getElementById('notice').textContent,
		}));
		throw new Error(`lesson page never reached state '${state}' in ${timeout} ms: ${JSON.stringify(seen)}`);
	}
}

/** The id of the participant named name, as a lesson page sees it (or undefined). */
export function participantId(page, name) {
	return page.evaluate((n) => Object.values(window.ketang.participants).find((p) => p.name === n)?.id, name);
}

/**
 * The inbound-rtp stats of what a lesson page receives of participant's
 * source ('camera', 'courseware', 'audio'), found through the page's
 * streams list (mid): { mid, framesDecoded, packetsReceived,
 * totalSamplesReceived } or null when the page does not receive it.
 */
export function lessonInbound(page, participant, source) {
	return page.evaluate(async ([p, s]) => {
		const stream = window.ketang.streams.find((x) => x.participant === p && x.source === s);
		const pc = window.ketang.subscribePc;
		if (!stream || !pc)
			return null;
		const out = { mid: stream.mid, framesDecoded: 0, packetsReceived: 0, totalSamplesReceived: 0 };
		// Summed: after a renegotiation a mid can carry a new SSRC while the old one's
		// stats linger, and either may be listed last.
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'inbound-rtp' && r.mid === stream.mid) {
				out.framesDecoded += r.framesDecoded || 0;
				out.packetsReceived += r.packetsReceived || 0;
				out.totalSamplesReceived += r.totalSamplesReceived || 0;
			}
		});
		return out;
	}, [participant, source]);
}

/**
 * Asserts that a lesson page receives participant's source and that it
 * keeps flowing: frames decoded (video) or packets received (audio) grow.
 * since: a lessonInbound() result taken when the source had stopped; the
 * source counts as arrived only past it (a new mid, or the same mid grown),
 * so the counters of before the stop are not mistaken for its return.
 */
export async function assertLessonReceives(page, participant, source, { timeout = 15000, since = null } = {}) {
	const key = source === 'audio' ? 'packetsReceived' : 'framesDecoded';
	const floor = (s) => (since && s.mid === since.mid ? since[key] : 0);
	const deadline = Date.now() + timeout;
	let first = null;
	while (Date.now() < deadline) {
		first = await lessonInbound(page, participant, source);
		if (first && first[key] > floor(first))
			break;
		await new Promise((r) => setTimeout(r, 200));
	}
	if (!first || first[key] <= floor(first))
		throw new Error(`${source} of ${participant} never arrived (${key}): ${JSON.stringify(first)}`);
	// Flowing = the counter grows again; a loaded machine may take a few seconds between
	// the first counted frame and the next stats update.
	const growBy = Math.max(deadline, Date.now() + 5000);
	let later = null;
	do {
		await new Promise((r) => setTimeout(r, 400));
		later = await lessonInbound(page, participant, source);
	} while ((!later || later[key] <= first[key]) && Date.now() < growBy);
	if (!later || later[key] <= first[key])
		throw new Error(`${source} of ${participant} stalled: ${JSON.stringify({ first, later })}`);
}

/** Resolves true once participant's source stops growing on the page (or is gone). */
export async function waitLessonStops(page, participant, source, { timeout = 10000 } = {}) {
	const key = source === 'audio' ? 'packetsReceived' : 'framesDecoded';
	const deadline = Date.now() + timeout;
	let last = await lessonInbound(page, participant, source);
	while (Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 1000));
		const now = await lessonInbound(page, participant, source);
		if (!now || (last && now[key] === last[key]))
			return true;
		last = now;
	}
	return false;
}

/** When the page last (re)joined, in Unix ms (the page's own clock, not the test's polling). */
export function rejoinedAt(page) {
	return page.evaluate(() => performance.timeOrigin + window.ketang.timings.rejoinedAt);
}
