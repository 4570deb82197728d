// Janus 1.1.x videoroom client for the QoE bench: a plain browser script, no
// framework, no janus.js. Inject it into a page of a secure context (e.g.
// http://127.0.0.1:PORT/, where getUserMedia is allowed) with
// page.addScriptTag({ path }); it talks to Janus's HTTP API with fetch()
// (Janus answers every request with `Access-Control-Allow-Origin: *`).
//
//   feed = await ktJanusPublish(baseUrl, { room, width, height, simulcast })
//   await ktJanusWatch(baseUrl, { room, feed, substream, temporal })
//   await ktJanusWatchConfigure({ substream, temporal })
//
// baseUrl is Janus's API root, e.g. "http://10.79.0.1:8088/janus". Both sides
// are non-trickle: the offer/answer goes out once ICE gathering is complete,
// with `trickle: false`; Janus puts its own candidates in its SDP (its default
// half-trickle). Set by the calls, for a harness: window.ktJanusPublishPc,
// window.ktJanusWatchPc (RTCPeerConnections, for getStats), window.ktJanusEvents
// (asynchronous Janus events worth a look: webrtcup, media, slowlink, hangup,
// simulcast layer changes), window.ktJanusVideo (the watcher's <video>).
(() => {
	'use strict';

	// The teacher page's simulcast encodings, lowest first. Janus assumes the
	// highest first unless the JSEP says `rid_order: "lmh"` (see publish).
	const SIMULCAST = [
		{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
		{ rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
		{ rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1200000 },
	];
	const REPLY_TIMEOUT_MS = 15000;
	const ICE_TIMEOUT_MS = 10000;
	const CONNECT_TIMEOUT_MS = 20000;

	const events = (window.ktJanusEvents = window.ktJanusEvents || []);
	let txSeq = 0;
	const transaction = () => `kt-${Date.now().toString(36)}-${(txSeq++).toString(36)}`;

	function withTimeout(promise, ms, what) {
		let timer;
		const timeout = new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
		});
		return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
	}

	// POST without a Content-Type header: a "simple" cross-origin request,
	// so no OPTIONS preflight per call (Janus parses the body as JSON anyway).
	async function post(url, body) {
		const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), cache: 'no-store' });
		if (!res.ok)
			throw new Error(`Janus HTTP ${res.status} for ${body.janus}`);
		const reply = await res.json();
		if (reply.janus === 'error')
			throw new Error(`Janus ${body.janus}: error ${reply.error.code} ${reply.error.reason}`);
		return reply;
	}

	function pluginError(reply) {
		const data = reply.plugindata && reply.plugindata.data;
		return data && data.error ? new Error(`videoroom error ${data.error_code}: ${data.error}`) : null;
	}

	// A Janus session with its long poll (GET /janus/SESSION?maxev=1), which
	// also keeps it alive: Janus answers a poll after 30 s without events
	// with a keepalive, well inside the 60 s session timeout.
	class Session {
		constructor(base) {
			this.base = base.replace(/\/+$/, '');
			this.waiters = new Map();
			this.closed = false;
		}

		async create() {
			const reply = await post(this.base, { janus: 'create', transaction: transaction() });
			this.id = reply.data.id;
			this.url = `${this.base}/${this.id}`;
			this.poll();
			return this;
		}

		async poll() {
			while (!this.closed) {
				let batch;
				try {
					const res = await fetch(`${this.url}?maxev=1&rid=${Date.now()}`, { cache: 'no-store' });
					if (!res.ok)
						throw new Error(`long poll HTTP ${res.status}`);
					batch = await res.json();
				} catch (err) {
					if (this.closed)
						return;
					events.push({ t: Date.now(), session: this.id, janus: 'poll-error', error: String(err) });
					for (const w of this.waiters.values())
						w.reject(err);
					this.waiters.clear();
					return;
				}
				if (!Array.isArray(batch) && batch.janus === 'error' && !batch.transaction) {
					// e.g. 458 "No such session" after a session timeout: the
					// poll would come back at once, forever.
					this.closed = true;
					events.push({ t: Date.now(), session: this.id, janus: 'poll-error',
						error: `${batch.error.code} ${batch.error.reason}` });
					for (const w of this.waiters.values())
						w.reject(new Error(`Janus session ${this.id}: ${batch.error.reason}`));
					this.waiters.clear();
					return;
				}
				for (const ev of [].concat(batch))
					this.dispatch(ev);
			}
		}

		dispatch(ev) {
			if (ev.janus === 'keepalive' || ev.janus === 'ack')
				return;
			const waiter = ev.transaction && this.waiters.get(ev.transaction);
			if (waiter) {
				this.waiters.delete(ev.transaction);
				const err = ev.janus === 'error' ? new Error(`Janus error ${ev.error.code} ${ev.error.reason}`)
					: pluginError(ev);
				if (err)
					waiter.reject(err);
				else
					waiter.resolve(ev);
				return;
			}
			// Anything else is asynchronous news about a handle.
			const data = ev.plugindata ? ev.plugindata.data : undefined;
			events.push({ t: Date.now(), session: this.id, handle: ev.sender, janus: ev.janus,
				type: ev.type, receiving: ev.receiving, uplink: ev.uplink, lost: ev.lost, reason: ev.reason,
				data });
		}

		async attach(plugin) {
			const reply = await post(this.url, { janus: 'attach', plugin, transaction: transaction() });
			return new Handle(this, reply.data.id);
		}

		async destroy() {
			this.closed = true;
			await post(this.url, { janus: 'destroy', transaction: transaction() }).catch(() => {});
		}
	}

	class Handle {
		constructor(session, id) {
			this.session = session;
			this.id = id;
			this.url = `${session.url}/${id}`;
		}

		// A plugin request. Synchronous ones are answered in the POST's reply
		// ("success"); asynchronous ones (join, publish, start, configure) get
		// an "ack" there and their result later on the long poll, matched by
		// transaction. Resolves { data, jsep }.
		async message(body, jsep) {
			const tx = transaction();
			const waiters = this.session.waiters;
			const pending = new Promise((resolve, reject) => waiters.set(tx, { resolve, reject }));
			pending.catch(() => {});
			const msg = { janus: 'message', transaction: tx, body };
			if (jsep)
				msg.jsep = jsep;
			let reply;
			try {
				reply = await post(this.url, msg);
			} catch (err) {
				waiters.delete(tx);
				throw err;
			}
			if (reply.janus !== 'ack') {
				waiters.delete(tx);
				const err = pluginError(reply);
				if (err)
					throw err;
			} else {
				reply = await withTimeout(pending, REPLY_TIMEOUT_MS, `videoroom ${body.request}`)
					.finally(() => waiters.delete(tx));
			}
			return { data: reply.plugindata ? reply.plugindata.data : undefined, jsep: reply.jsep };
		}
	}

	function iceGatheringComplete(pc) {
		if (pc.iceGatheringState === 'complete')
			return Promise.resolve();
		return withTimeout(new Promise((resolve) => {
			const check = () => {
				if (pc.iceGatheringState === 'complete') {
					pc.removeEventListener('icegatheringstatechange', check);
					resolve();
				}
			};
			pc.addEventListener('icegatheringstatechange', check);
		}), ICE_TIMEOUT_MS, 'ICE gathering');
	}

	function connected(pc) {
		return withTimeout(new Promise((resolve, reject) => {
			const check = () => {
				if (pc.connectionState === 'connected') {
					pc.removeEventListener('connectionstatechange', check);
					resolve();
				} else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
					pc.removeEventListener('connectionstatechange', check);
					reject(new Error(`PeerConnection ${pc.connectionState}`));
				}
			};
			pc.addEventListener('connectionstatechange', check);
			check();
		}), CONNECT_TIMEOUT_MS, 'ICE/DTLS connection');
	}

	/**
	 * Joins @room as a publisher and publishes the fake camera (width x height)
	 * and microphone: VP8 with three simulcast layers (SIMULCAST, or
	 * opts.encodings) or one, Opus. Resolves the feed id once connected.
	 */
	window.ktJanusPublish = async (baseUrl, opts) => {
		const { room, width = 640, height = 480, frameRate = 30, simulcast = true,
			display = 'teacher', encodings = SIMULCAST } = opts;
		const session = await new Session(baseUrl).create();
		const handle = await session.attach('janus.plugin.videoroom');
		const joined = await handle.message({ request: 'join', ptype: 'publisher', room, display });
		const feed = joined.data.id;

		const stream = await navigator.mediaDevices.getUserMedia({
			audio: true,
			video: { width: { exact: width }, height: { exact: height }, frameRate: { ideal: frameRate } },
		});
		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		window.ktJanusPublishPc = pc;
		pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
		pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream],
			sendEncodings: simulcast ? encodings.map((e) => ({ ...e })) : undefined });
		await pc.setLocalDescription(await pc.createOffer());
		await iceGatheringComplete(pc);

		// 1.x: `publish` (audio/video flags are gone, every m-line is
		// published); `configure` would do the same on a first offer.
		// rid_order "lmh": our rids are listed lowest first.
		const jsep = { type: 'offer', sdp: pc.localDescription.sdp, trickle: false };
		if (simulcast)
			jsep.rid_order = 'lmh';
		const published = await handle.message({ request: 'publish', display }, jsep);
		if (!published.jsep)
			throw new Error('videoroom publish: no JSEP answer');
		await pc.setRemoteDescription(published.jsep);
		await connected(pc);
		window.ktJanusPublisher = { session, handle, feed, stream };
		return feed;
	};

	let watcher = null;

	/**
	 * Subscribes to every stream of @feed in @room (1.x multistream `streams`
	 * list), answers Janus's offer (receive only), renders what arrives in a
	 * muted autoplaying <video> and an <audio>, resolves once connected.
	 * opts.substream / opts.temporal force a simulcast layer (0 = lowest).
	 */
	window.ktJanusWatch = async (baseUrl, opts) => {
		const { room, feed, substream, temporal } = opts;
		const session = await new Session(baseUrl).create();
		const handle = await session.attach('janus.plugin.videoroom');
		const attached = await handle.message({ request: 'join', ptype: 'subscriber', room, streams: [{ feed }] });
		if (!attached.jsep)
			throw new Error('videoroom join (subscriber): no JSEP offer');
		const streams = attached.data.streams || [];
		const video = streams.find((s) => s.type === 'video');

		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		window.ktJanusWatchPc = pc;
		pc.ontrack = (ev) => {
			const kind = ev.track.kind;
			const el = document.createElement(kind === 'video' ? 'video' : 'audio');
			el.autoplay = true;
			el.playsInline = true;
			el.muted = kind === 'video';
			el.srcObject = new MediaStream([ev.track]);
			if (kind === 'video') {
				el.width = 320;
				window.ktJanusVideo = el;
			}
			document.body.appendChild(el);
			el.play().catch((err) => events.push({ t: Date.now(), janus: 'play-error', kind, error: String(err) }));
		};
		await pc.setRemoteDescription(attached.jsep);
		await pc.setLocalDescription(await pc.createAnswer());
		await iceGatheringComplete(pc);
		await handle.message({ request: 'start' }, { type: 'answer', sdp: pc.localDescription.sdp, trickle: false });
		watcher = { session, handle, streams, videoMid: video ? video.mid : undefined };
		window.ktJanusWatcher = watcher;
		await connected(pc);
		if (substream !== undefined || temporal !== undefined)
			await window.ktJanusWatchConfigure({ substream, temporal });
		return streams;
	};

	/** Asks Janus to relay another simulcast layer of the watched video. */
	window.ktJanusWatchConfigure = async ({ substream, temporal }) => {
		if (!watcher || watcher.videoMid === undefined)
			throw new Error('ktJanusWatchConfigure: no video subscription');
		const stream = { mid: watcher.videoMid };
		if (substream !== undefined)
			stream.substream = substream;
		if (temporal !== undefined)
			stream.temporal = temporal;
		const reply = await watcher.handle.message({ request: 'configure', streams: [stream] });
		return reply.data;
	};

	/** Hangs up both sides (destroying the sessions closes their handles). */
	window.ktJanusClose = async () => {
		for (const pc of [window.ktJanusWatchPc, window.ktJanusPublishPc])
			if (pc)
				pc.close();
		if (watcher)
			await watcher.session.destroy();
		if (window.ktJanusPublisher)
			await window.ktJanusPublisher.session.destroy();
	};
})();
