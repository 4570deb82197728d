// Injected into a watcher page by the QoE bench (bench/qoe/qoe.mjs). Samples
// the page's RTCPeerConnection every 250 ms and timestamps every frame the
// <video> element presents (requestVideoFrameCallback), so the bench can
// measure freezes itself, including the wait for the first frame, which
// Chromium's own freeze counters do not see. Plain script: no imports.
(() => {
	const samples = [];
	const frames = [];
	const gens = new WeakMap(); // peer connection -> its number (a page that reconnects makes new ones)
	let timer = 0;

	function pick(stats, kind) {
		let best = null;
		stats.forEach((s) => {
			if (s.type === 'inbound-rtp' && s.kind === kind &&
				(!best || (s.bytesReceived || 0) > (best.bytesReceived || 0)))
				best = s;
		});
		return best;
	}

	function selectedPair(stats) {
		let pair = null;
		stats.forEach((s) => {
			if (s.type === 'transport' && s.selectedCandidatePairId)
				pair = stats.get(s.selectedCandidatePairId);
		});
		if (!pair)
			stats.forEach((s) => {
				if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded')
					pair = s;
			});
		return pair;
	}

	const VIDEO_KEYS = ['bytesReceived', 'packetsReceived', 'packetsLost', 'framesDecoded',
		'framesDropped', 'frameWidth', 'frameHeight', 'framesPerSecond', 'freezeCount',
		'totalFreezesDuration', 'jitterBufferDelay', 'jitterBufferEmittedCount', 'nackCount',
		'pliCount', 'keyFramesDecoded'];
	const AUDIO_KEYS = ['bytesReceived', 'packetsReceived', 'packetsLost', 'concealedSamples',
		'silentConcealedSamples', 'concealmentEvents', 'totalSamplesReceived',
		'jitterBufferDelay', 'jitterBufferEmittedCount', 'fecPacketsReceived',
		'fecPacketsDiscarded', 'packetsDiscarded'];

	function copy(s, keys) {
		if (!s)
			return null;
		const out = {};
		for (const k of keys)
			out[k] = s[k] === undefined ? null : s[k];
		return out;
	}

	async function sample(pcOf) {
		const pc = pcOf();
		if (!pc)
			return;
		const stats = await pc.getStats();
		const pair = selectedPair(stats);
		if (!gens.has(pc))
			gens.set(pc, samples.length ? samples[samples.length - 1].gen + 1 : 0);
		samples.push({
			t: performance.now(),
			gen: gens.get(pc),
			video: copy(pick(stats, 'video'), VIDEO_KEYS),
			audio: copy(pick(stats, 'audio'), AUDIO_KEYS),
			rtt: pair && pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime : null,
			outgoingBitrate: pair ? pair.availableOutgoingBitrate || null : null,
		});
	}

	function watchFrames() {
		// The element that shows a stream (a page may hold empty ones).
		const video = [...document.querySelectorAll('video')].find((v) => v.srcObject);
		if (!video || !video.requestVideoFrameCallback) {
			setTimeout(watchFrames, 100);
			return;
		}
		const onFrame = (now, meta) => {
			frames.push({ t: now, w: meta.width, h: meta.height });
			video.requestVideoFrameCallback(onFrame);
		};
		video.requestVideoFrameCallback(onFrame);
	}

	window.ktQoe = {
		/** Starts sampling the peer connection at window.<@pcPath> (e.g.
		 * 'ketang.pc'; a path, not code, so a strict CSP has nothing to refuse). */
		start(pcPath) {
			const pcOf = () => pcPath.split('.').reduce((o, k) => (o ? o[k] : null), window);
			this.startedAt = performance.now();
			watchFrames();
			timer = setInterval(() => sample(pcOf).catch(() => {}), 250);
		},
		stop() {
			clearInterval(timer);
			return { startedAt: this.startedAt, stoppedAt: performance.now(), samples, frames };
		},
	};
})();
