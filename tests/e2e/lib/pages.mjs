// Drives the Ketang web pages (web/teacher.html, web/watch.html) in a test
// browser and reads their WebRTC statistics.

/** Join-link fragment, as the server's admin would hand it out. */
export function joinFragment(lesson, token) {
	return `#${new URLSearchParams({ lesson, token })}`;
}

/**
 * Opens /teacher with the join link, picks a small camera size (the fake
 * device honours it; keeps the CPU budget of one browser) and presses start.
 * Resolves once the page reports 'live' (ICE+DTLS connected).
 */
export async function startTeacher(page, origin, lesson, token, { size = '320x240', timeout = 20000 } = {}) {
	await page.goto(`${origin}/teacher${joinFragment(lesson, token)}`);
	await page.waitForFunction(() => window.ketang && !document.getElementById('start').disabled);
	await page.evaluate((value) => {
		const select = document.getElementById('quality');
		select.add(new Option(value, value, true, true));
	}, size);
	await page.click('#start');
	await waitForState(page, 'live', timeout);
}

/** Opens /watch with the join link; the page connects by itself. */
export async function openWatcher(page, origin, lesson, token) {
	await page.goto(`${origin}/watch${joinFragment(lesson, token)}`);
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
				totalSamplesReceived: s.totalSamplesReceived,
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
