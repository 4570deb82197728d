// Turns what bench/qoe/lib/collector.js recorded in a watcher page into the
// QoE figures the bench prints (issue 5): bitrate, frame rate, resolution,
// freezes, audio concealment, jitter-buffer delay, round trip, and for the
// dip the time back to the layer it had before.

/** Chromium's freeze rule (webrtc VideoReceiveStream stats): an inter-frame
 * interval is a freeze when longer than max(3 × the mean, mean + 150 ms). */
function isFreeze(interval, mean) {
	return interval > Math.max(3 * mean, mean + 150);
}

/**
 * Freezes from the presented-frame times in [from, to] (ms). The wait for the
 * first frame and after the last one count as frozen too: a watcher who sees
 * nothing sees a frozen lesson. Returns { frozenMs, count, longestAfter5sMs }.
 */
export function freezes(frames, from, to) {
	const times = frames.map((f) => f.t).filter((t) => t >= from && t <= to);
	if (times.length < 2)
		return { frozenMs: to - from, count: 1, longestAfter5sMs: Math.max(0, to - from - 5000) };
	const intervals = [];
	for (let i = 1; i < times.length; i++)
		intervals.push(times[i] - times[i - 1]);
	const sorted = [...intervals].sort((a, b) => a - b);
	const typical = sorted[Math.floor(sorted.length / 2)];
	let frozenMs = 0;
	let count = 0;
	let longest = 0;
	const consider = (start, end) => {
		const len = end - start;
		if (!isFreeze(len, typical))
			return;
		frozenMs += len;
		count++;
		const after5 = end - Math.max(start, from + 5000);
		longest = Math.max(longest, after5);
	};
	consider(from, times[0]);
	for (let i = 1; i < times.length; i++)
		consider(times[i - 1], times[i]);
	consider(times[times.length - 1], to);
	return { frozenMs, count, longestAfter5sMs: longest };
}

function delta(a, b, key) {
	if (!a || !b || a[key] == null || b[key] == null)
		return null;
	return b[key] - a[key];
}

/** The growth of counter @key of @kind ('video', 'audio') over @samples,
 * summed over each peer connection's run of samples: a page that reconnects
 * starts its counters again from zero. null when never reported. */
function growth(samples, kind, key) {
	let sum = null;
	for (let i = 1; i < samples.length; i++) {
		const a = samples[i - 1], b = samples[i];
		if (a.gen !== b.gen)
			continue;
		const d = delta(a[kind], b[kind], key);
		if (d != null)
			sum = (sum || 0) + d;
	}
	return sum;
}

function median(values) {
	const v = values.filter((x) => x != null).sort((a, b) => a - b);
	return v.length ? v[Math.floor(v.length / 2)] : null;
}

/** The frame height shown longest among @samples (by sample count). */
function commonHeight(samples) {
	const count = new Map();
	for (const s of samples) {
		const h = s.video && s.video.frameHeight;
		if (h)
			count.set(h, (count.get(h) || 0) + 1);
	}
	let best = null;
	for (const [h, n] of count)
		if (best === null || n > count.get(best))
			best = h;
	return best;
}

/**
 * The figures of one run. @rec: collector output; @dip (optional):
 * { startMs, endMs } relative to the start, when the link was lowered and
 * restored.
 */
export function summarize(rec, dip = null) {
	const { startedAt: t0, stoppedAt: t1, samples, frames } = rec;
	const secs = (t1 - t0) / 1000;
	const g = (kind, key) => growth(samples, kind, key);
	const bytes = (g('video', 'bytesReceived') || 0) + (g('audio', 'bytesReceived') || 0);
	const fr = freezes(frames, t0, t1);
	const concealed = g('audio', 'concealedSamples');
	const total = g('audio', 'totalSamplesReceived');
	const jb = (kind) => {
		const n = g(kind, 'jitterBufferEmittedCount');
		return n ? (g(kind, 'jitterBufferDelay') / n) * 1000 : null;
	};
	const loss = (kind) => {
		const lost = g(kind, 'packetsLost'), got = g(kind, 'packetsReceived');
		return got ? (100 * lost) / (lost + got) : null;
	};
	const height = commonHeight(samples);
	const widthOf = (h) => {
		const s = samples.find((x) => x.video && x.video.frameHeight === h);
		return s ? s.video.frameWidth : null;
	};
	const out = {
		seconds: secs,
		kbps: (bytes * 8) / secs / 1000,
		fps: (g('video', 'framesDecoded') || 0) / secs,
		resolution: height ? `${widthOf(height)}x${height}` : '-',
		height,
		frozenPct: (100 * fr.frozenMs) / (t1 - t0),
		freezes: fr.count,
		longestFreezeAfter5s: fr.longestAfter5sMs / 1000,
		chromeFreezes: g('video', 'freezeCount'),
		chromeFrozenS: g('video', 'totalFreezesDuration'),
		concealedPct: total ? (100 * concealed) / total : null,
		// Seconds of audio played out (Opus at 48 kHz), concealed or not.
		audioS: total ? total / 48000 : 0,
		framesDecoded: g('video', 'framesDecoded') || 0,
		videoJbMs: jb('video'),
		audioJbMs: jb('audio'),
		rttMs: median(samples.map((s) => (s.rtt == null ? null : s.rtt * 1000))),
		videoLossPct: loss('video'),
		audioLossPct: loss('audio'),
		reconnects: samples.length ? samples[samples.length - 1].gen : 0,
	};
	if (dip)
		Object.assign(out, dipFigures(rec, dip));
	return out;
}

/** Time from the link's return to the layer held before the dip (the most
 * common height over the 10 s before it), and audio concealment in the dip. */
function dipFigures(rec, dip) {
	const { startedAt: t0, samples } = rec;
	const at = (ms) => t0 + ms;
	const before = samples.filter((s) => s.t >= at(dip.startMs - 10000) && s.t < at(dip.startMs));
	const pre = commonHeight(before);
	const back = samples.find((s) => s.t >= at(dip.endMs) && s.video && pre && s.video.frameHeight >= pre);
	const during = samples.filter((s) => s.t >= at(dip.startMs) && s.t <= at(dip.endMs));
	let dipConcealedPct = null;
	if (during.length > 1) {
		const n = growth(during, 'audio', 'totalSamplesReceived');
		dipConcealedPct = n ? (100 * growth(during, 'audio', 'concealedSamples')) / n : null;
	}
	return {
		preDipHeight: pre,
		dipLowestHeight: Math.min(...during.map((s) => (s.video && s.video.frameHeight) || Infinity)),
		returnS: back ? (back.t - at(dip.endMs)) / 1000 : null,
		dipConcealedPct,
	};
}
