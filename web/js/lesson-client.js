// The lesson WebSocket client shared by the teacher and classroom pages
// (signaling/PROTOCOL.md, "The lesson WebSocket").
//
// One socket (subprotocol ketang.v1) and two RTCPeerConnections, as the
// protocol's model says: the publish connection (this page offers, the
// server answers; a new offer whenever the local sources change) and the
// subscribe connection (the server offers, this page answers; a new offer
// whenever what we receive changes). ICE trickles both ways (RFC 8838).
//
// Recovery: a closed socket, a failed ICE connection or one disconnected for
// more than ICE_GRACE_MS tears everything down and joins again with a short
// backoff (at most RETRY_DELAYS_MS's last step between attempts), so the page
// is back within a few seconds of the network returning, without the user.

import { transceiverInit } from './simulcast.js';

export const SUBPROTOCOL = 'ketang.v1';

const RETRY_DELAYS_MS = [0, 300, 700, 1200, 2000];
const OPEN_TIMEOUT_MS = 3000; // a socket that does not open in this time is retried
const JOIN_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10000;
const ICE_GRACE_MS = 3000; // ICE often recovers from 'disconnected' by itself first
const CLOSE_REPLACED = 4002; // signaling/PROTOCOL.md, "Closing"

// Join errors that retrying cannot fix. 'wrong-state' (a second teacher) is
// final on the first join only: after a drop the server may not yet have
// noticed that the old socket is gone.
const FINAL_JOIN_ERRORS = new Set(['bad-token', 'token-expired', 'lesson-ended', 'wrong-role',
	'wrong-lesson', 'bad-message']);

/** An `error` from the server, or a local failure (code 'timeout', 'closed'). */
export class LessonError extends Error {
	constructor(code, message) {
		super(message || code);
		this.name = 'LessonError';
		this.code = code;
	}
}

/** The socket URL of this page's server: wss://HOST/ws (ws:// on plain http). */
export function lessonSocketUrl() {
	return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/**
 * Events (CustomEvent, details in brackets):
 *   state        the connection state changed [{state, reason}]:
 *                connecting, joined, reconnecting, ended, failed, left
 *   change       participants, hands, stage or mute changed (read client.participants)
 *   streams      the received streams changed [list of {mid, participant, source, kind, track}]
 *   chat         a chat message [{from, name, text, at}]
 *   chathistory  the lesson's recent chat, on (re)join [list of chat messages]
 *   servererror  an error not tied to a pending request [{code, message}]
 *   publish      the publish connection was (re)negotiated or failed [{ok, error}]
 *   message      every server message, after the model was updated [msg]
 */
export class LessonClient extends EventTarget {
	/**
	 * @param {object} opts
	 * @param {string} opts.token the join token (from the link's fragment)
	 * @param {string} [opts.name] display name (classrooms: the room name)
	 * @param {string} [opts.url] socket URL, default lessonSocketUrl()
	 * @param {string} [opts.audio] classrooms: 'mix' asks for one mix-minus audio
	 *   stream instead of one track per speaker (see setAudio)
	 */
	constructor({ token, name, url, audio } = {}) {
		super();
		this.token = token;
		this.name = name || '';
		this.audio = audio === 'mix' ? 'mix' : 'forward';
		this.url = url || lessonSocketUrl();
		this.state = 'idle';
		this.ws = null;
		this.publishPc = null;
		this.subscribePc = null;
		this.me = null; // {id, role, name}
		this.lesson = null; // {id, title, state}
		this.participants = {}; // id -> {id, role, name, hand, muted, staged, handAt, quality}
		this.stage = null;
		// Lesson sources that are not browsers (an RTSP camera, an RTMP encoder), from the
		// `sources` message: [{id, role, source, name, state, reason, retry_s}].
		this.feeds = [];
		this.remoteStreams = [];
		this.rejoins = 0;
		this.timings = { lostAt: null, rejoinedAt: null, rejoinMs: [] };
		this.sources = new Map(); // source -> {track, stream}: what we publish, kept across rejoins
		this.generation = 0; // bumps on every (re)connect: stale callbacks do nothing
		this.attempt = 0;
		this.retryTimer = 0;
		this.nextId = 0;
		this.pending = new Map(); // request id -> {resolve, reject, timer}
		this.everJoined = false;
		window.addEventListener('online', () => this.retryNow());
	}

	/** Opens the socket and joins. Safe to call once; recovery is automatic. */
	start() {
		if (this.state !== 'idle')
			return;
		this.setState('connecting');
		this.connect();
	}

	/** Leaves for good (page closing): no more retries. */
	leave() {
		this.teardown();
		this.setState('left');
	}

	/**
	 * Publishes track as source ('camera', 'courseware', 'audio'), or stops
	 * publishing that source when track is null. Renegotiates the publish
	 * connection when joined; otherwise remembered for the next join.
	 * { simulcast: true } sends video as simulcast layers (simulcast.js).
	 */
	setSource(source, track, stream = null, { simulcast = false } = {}) {
		if (track)
			this.sources.set(source, { track, stream: stream || new MediaStream([track]), simulcast });
		else
			this.sources.delete(source);
		if (this.state === 'joined')
			this.queuePublish();
	}

	/**
	 * A classroom's audio: 'mix' (one mix-minus stream: everyone audible but
	 * this room, less to receive on a weak link) or 'forward' (one track per
	 * speaker, lowest delay). Kept for rejoins; sent at once when joined.
	 * Rejects (and keeps the previous mode) when the server refuses.
	 */
	async setAudio(mode) {
		const previous = this.audio;
		this.audio = mode === 'mix' ? 'mix' : 'forward';
		if (this.state !== 'joined' || this.audio === previous)
			return;
		try {
			await this.request('audio', { mode: this.audio });
		} catch (err) {
			this.audio = previous;
			throw err;
		}
	}

	/** Sends a request and resolves with its reply (rejects with LessonError). */
	request(type, fields = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
		const ws = this.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN)
			return Promise.reject(new LessonError('closed', '未连接 Not connected'));
		const id = ++this.nextId;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new LessonError('timeout', `${type}: 服务器无应答 no answer from the server`));
			}, timeoutMs);
			this.pending.set(id, { resolve, reject, timer });
			ws.send(JSON.stringify({ type, id, ...fields }));
		});
	}

	/** Sends a message that needs no reply (server errors still arrive as servererror). */
	send(type, fields = {}) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN)
			this.ws.send(JSON.stringify({ type, ...fields }));
	}

	// ---- connection and recovery ------------------------------------------

	setState(state, reason = null) {
		this.state = state;
		this.dispatchEvent(new CustomEvent('state', { detail: { state, reason } }));
	}

	connect() {
		const gen = ++this.generation;
		let ws;
		try {
			ws = new WebSocket(this.url, SUBPROTOCOL);
		} catch (err) {
			this.lost(String(err.message || err));
			return;
		}
		this.ws = ws;
		const openTimer = setTimeout(() => {
			if (gen === this.generation)
				this.lost('连接超时 connect timeout');
		}, OPEN_TIMEOUT_MS);
		ws.onopen = () => {
			clearTimeout(openTimer);
			this.join(gen);
		};
		ws.onmessage = (event) => {
			if (gen === this.generation)
				this.onMessage(event.data);
		};
		ws.onclose = (event) => {
			clearTimeout(openTimer);
			if (gen !== this.generation)
				return;
			// The same classroom joined from another window or device: that one is the
			// classroom now, and coming back by ourselves would only push it out again.
			if (event.code === CLOSE_REPLACED)
				this.fail(new LessonError('replaced', event.reason));
			else
				this.lost(`连接已断开 connection closed (${event.code})`);
		};
	}

	async join(gen) {
		const fields = { token: this.token };
		if (this.name)
			fields.name = this.name;
		if (this.audio === 'mix')
			fields.audio = 'mix'; // every (re)join asks again: the server forgets it with the socket
		let reply;
		try {
			reply = await this.request('join', fields, JOIN_TIMEOUT_MS);
		} catch (err) {
			if (gen !== this.generation)
				return;
			const final = FINAL_JOIN_ERRORS.has(err.code) ||
				(err.code === 'wrong-state' && !this.everJoined);
			if (final)
				this.fail(err);
			else
				this.lost(err.message);
			return;
		}
		if (gen !== this.generation)
			return;
		this.everJoined = true;
		this.attempt = 0;
		if (this.timings.lostAt !== null) {
			this.timings.rejoinedAt = performance.now();
			this.timings.rejoinMs.push(this.timings.rejoinedAt - this.timings.lostAt);
			this.timings.lostAt = null;
			this.rejoins++;
		}
		this.timings.joined = this.timings.joined || performance.now();
		this.setState('joined');
		this.dispatchEvent(new CustomEvent('change'));
		if (this.sources.size)
			this.queuePublish();
		return reply;
	}

	/** Something broke: tear down and try again soon (unless we are done). */
	lost(reason) {
		if (['ended', 'failed', 'left'].includes(this.state))
			return;
		this.teardown();
		if (this.timings.lostAt === null)
			this.timings.lostAt = performance.now();
		this.setState('reconnecting', reason);
		const delay = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
		this.attempt++;
		this.retryTimer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
	}

	/** The browser says the network is back: do not wait for the backoff. */
	retryNow() {
		if (this.state !== 'reconnecting')
			return;
		clearTimeout(this.retryTimer);
		this.connect();
	}

	fail(err) {
		this.teardown();
		this.error = err;
		this.setState('failed', err.message);
	}

	/** Closes the socket and both connections; keeps the local sources. */
	teardown() {
		this.generation++;
		clearTimeout(this.retryTimer);
		for (const { reject, timer } of this.pending.values()) {
			clearTimeout(timer);
			reject(new LessonError('closed', '连接已断开 Connection closed'));
		}
		this.pending.clear();
		if (this.ws) {
			this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
			if (this.ws.readyState <= WebSocket.OPEN)
				this.ws.close(1000);
		}
		this.ws = null;
		for (const key of ['publishPc', 'subscribePc']) {
			const pc = this[key];
			if (!pc)
				continue;
			clearTimeout(pc.ketangGrace);
			pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
			pc.close();
			this[key] = null;
		}
		this.publishChain = null;
		this.subscribeChain = null;
		if (this.remoteStreams.length) {
			this.remoteStreams = [];
			this.dispatchEvent(new CustomEvent('streams', { detail: [] }));
		}
	}

	// ---- server messages ----------------------------------------------------

	onMessage(data) {
		let msg;
		try {
			msg = JSON.parse(data);
		} catch {
			console.warn('ketang: not JSON from the server', data);
			return;
		}
		if (!msg || typeof msg.type !== 'string')
			return;
		const handler = HANDLERS[msg.type];
		if (handler)
			handler(this, msg);
		const waiting = msg.id !== undefined && this.pending.get(msg.id);
		if (waiting) {
			this.pending.delete(msg.id);
			clearTimeout(waiting.timer);
			if (msg.type === 'error')
				waiting.reject(new LessonError(msg.code, msg.message));
			else
				waiting.resolve(msg);
		} else if (msg.type === 'error') {
			this.dispatchEvent(new CustomEvent('servererror',
				{ detail: { code: msg.code, message: msg.message } }));
		}
		this.dispatchEvent(new CustomEvent('message', { detail: msg }));
	}

	participant(id) {
		return this.participants[id] || null;
	}

	changed() {
		this.dispatchEvent(new CustomEvent('change'));
	}

	// ---- publish connection ---------------------------------------------------

	queuePublish() {
		const gen = this.generation;
		const chain = this.publishChain || Promise.resolve();
		this.publishChain = chain.then(() => this.negotiatePublish(gen)).catch((err) => {
			if (gen !== this.generation)
				return;
			if (err.code === 'busy') {
				// Too many sessions connecting on the server ([limits] dtls_handshakes):
				// it asks for a few seconds; spread the retries out.
				this.timings.publishBusy = (this.timings.publishBusy || 0) + 1;
				if (!this.publishRetry) // one retry for however many offers were refused
					this.publishRetry = setTimeout(() => {
						this.publishRetry = null;
						if (gen === this.generation)
							this.queuePublish();
					}, 2000 + Math.random() * 2000);
				return;
			}
			console.warn('ketang: publish failed', err);
			this.dispatchEvent(new CustomEvent('publish', { detail: { ok: false, error: err } }));
		});
	}

	async negotiatePublish(gen) {
		if (gen !== this.generation || this.state !== 'joined')
			return;
		if (!this.publishPc)
			this.publishPc = this.makePc('publish', gen);
		const pc = this.publishPc;
		const senders = pc.ketangSources; // source -> transceiver
		for (const [source, { track, stream, simulcast }] of this.sources) {
			let transceiver = senders.get(source);
			if (!transceiver) {
				transceiver = pc.addTransceiver(track, transceiverInit(track, stream, simulcast));
				senders.set(source, transceiver);
			} else {
				if (transceiver.sender.track !== track)
					await transceiver.sender.replaceTrack(track);
				transceiver.direction = 'sendonly';
			}
		}
		for (const [source, transceiver] of senders) {
			if (!this.sources.has(source) && transceiver.direction !== 'inactive') {
				await transceiver.sender.replaceTrack(null);
				transceiver.direction = 'inactive';
			}
		}
		await pc.setLocalDescription(await pc.createOffer());
		const tracks = [];
		for (const [source, transceiver] of senders)
			if (transceiver.direction === 'sendonly')
				tracks.push({ mid: transceiver.mid, source });
		pc.ketangOfferSent = true;
		this.flushLocalCandidates(pc);
		const reply = await this.request('publish_offer', { sdp: pc.localDescription.sdp, tracks });
		if (gen !== this.generation)
			return;
		await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
		await this.flushRemoteCandidates(pc);
		this.timings.published = this.timings.published || performance.now();
		this.dispatchEvent(new CustomEvent('publish', { detail: { ok: true, tracks } }));
	}

	// ---- subscribe connection -------------------------------------------------

	queueSubscribe(msg) {
		const gen = this.generation;
		const chain = this.subscribeChain || Promise.resolve();
		this.subscribeChain = chain.then(() => this.answerSubscribe(gen, msg)).catch((err) => {
			if (gen !== this.generation)
				return;
			console.warn('ketang: subscribe failed', err);
			// A subscribe connection we could not set up will not heal by itself.
			this.lost(`订阅失败 subscribe failed: ${err.message}`);
		});
	}

	async answerSubscribe(gen, msg) {
		if (gen !== this.generation)
			return;
		if (!this.subscribePc)
			this.subscribePc = this.makePc('subscribe', gen);
		const pc = this.subscribePc;
		pc.ketangStreams = Array.isArray(msg.streams) ? msg.streams : [];
		await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
		await this.flushRemoteCandidates(pc);
		await pc.setLocalDescription(await pc.createAnswer());
		if (gen !== this.generation)
			return;
		pc.ketangOfferSent = true;
		this.flushLocalCandidates(pc);
		this.send('subscribe_answer', { sdp: pc.localDescription.sdp });
		this.updateStreams(pc);
	}

	/** Maps each live receiving transceiver to {participant, source} by its mid. */
	updateStreams(pc) {
		const list = [];
		for (const transceiver of pc.getTransceivers()) {
			const info = pc.ketangStreams.find((s) => String(s.mid) === transceiver.mid);
			const direction = transceiver.currentDirection;
			if (!info || direction === 'inactive' || direction === 'stopped' || direction === 'sendonly')
				continue;
			list.push({ mid: transceiver.mid, participant: info.participant, source: info.source,
				kind: transceiver.receiver.track.kind, track: transceiver.receiver.track });
		}
		this.remoteStreams = list;
		this.dispatchEvent(new CustomEvent('streams', { detail: list }));
	}

	/** The received track of a participant's source, or null. */
	remoteTrack(participant, source) {
		const found = this.remoteStreams.find((s) => s.participant === participant && s.source === source);
		return found ? found.track : null;
	}

	// ---- both connections: ICE -------------------------------------------------

	makePc(kind, gen) {
		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		pc.ketangKind = kind;
		pc.ketangSources = new Map();
		pc.ketangStreams = [];
		pc.ketangLocal = []; // our candidates not yet sent (the offer/answer goes first)
		pc.ketangRemote = []; // the server's candidates before the remote description
		pc.ketangOfferSent = false;
		pc.onicecandidate = (event) => {
			const c = event.candidate;
			const msg = c && c.candidate
				? { pc: kind, candidate: c.candidate, sdpMid: c.sdpMid }
				: { pc: kind, candidate: '', sdpMid: firstMid(pc) };
			if (pc.ketangOfferSent)
				this.send('candidate', msg);
			else
				pc.ketangLocal.push(msg);
		};
		pc.onconnectionstatechange = () => this.onPcState(pc, gen);
		return pc;
	}

	flushLocalCandidates(pc) {
		for (const msg of pc.ketangLocal.splice(0))
			this.send('candidate', msg);
	}

	async flushRemoteCandidates(pc) {
		for (const c of pc.ketangRemote.splice(0))
			await addCandidate(pc, c);
	}

	onRemoteCandidate(msg) {
		// A subscribe candidate may race ahead of the server's offer: make the
		// connection now and keep the candidate until the offer is applied.
		if (msg.pc === 'subscribe' && !this.subscribePc && this.state === 'joined')
			this.subscribePc = this.makePc('subscribe', this.generation);
		const pc = msg.pc === 'publish' ? this.publishPc : msg.pc === 'subscribe' ? this.subscribePc : null;
		if (!pc)
			return;
		if (!pc.remoteDescription)
			pc.ketangRemote.push(msg);
		else
			addCandidate(pc, msg);
	}

	onPcState(pc, gen) {
		if (gen !== this.generation)
			return;
		const state = pc.connectionState;
		clearTimeout(pc.ketangGrace);
		if (state === 'connected') {
			const key = `${pc.ketangKind}Connected`;
			this.timings[key] = this.timings[key] || performance.now();
		} else if (state === 'failed') {
			this.lost(`媒体连接失败 media connection failed (${pc.ketangKind})`);
		} else if (state === 'disconnected') {
			pc.ketangGrace = setTimeout(() => {
				if (gen === this.generation)
					this.lost(`媒体连接中断 media connection lost (${pc.ketangKind})`);
			}, ICE_GRACE_MS);
		}
		this.dispatchEvent(new CustomEvent('media', { detail: { pc: pc.ketangKind, state } }));
	}
}

function firstMid(pc) {
	const first = pc.getTransceivers().find((t) => t.mid !== null);
	return first ? first.mid : '0';
}

async function addCandidate(pc, msg) {
	try {
		await pc.addIceCandidate(msg.candidate
			? { candidate: msg.candidate, sdpMid: msg.sdpMid ?? null, sdpMLineIndex: msg.sdpMLineIndex ?? 0 }
			: null); // end of candidates
	} catch (err) {
		console.warn(`ketang: ${pc.ketangKind} candidate refused`, err);
	}
}

function setFlag(field, value) {
	return (client, msg) => {
		const p = client.participant(msg.participant);
		if (!p)
			return;
		p[field] = value;
		if (field === 'hand')
			p.handAt = value ? Date.now() : null;
		client.changed();
	};
}

function idOf(participant) {
	return participant && typeof participant === 'object' ? participant.id : participant;
}

// One handler per server message type (PROTOCOL.md, "Server → client").
// Replies (ok, publish_answer, error) are matched to requests by id in onMessage.
const HANDLERS = {
	joined(client, msg) {
		client.me = msg.participant;
		client.lesson = msg.lesson;
		client.participants = {};
		for (const p of msg.participants || [])
			client.participants[p.id] = { ...p, handAt: p.hand ? Date.now() : null };
		if (client.me && !client.participants[client.me.id])
			client.participants[client.me.id] = { ...client.me, hand: false, muted: false, staged: false };
		client.stage = msg.stage ?? null;
		client.feeds = []; // the server sends `sources` again after the join
		// The hand queue in order (oldest first), when the server sends it.
		if (Array.isArray(msg.hands)) {
			const now = Date.now();
			msg.hands.forEach((id, i) => {
				const p = client.participant(id);
				if (p) {
					p.hand = true;
					p.handAt = now - msg.hands.length + i;
				}
			});
		}
		if (Array.isArray(msg.chat))
			client.dispatchEvent(new CustomEvent('chathistory', { detail: msg.chat }));
	},
	participant_joined(client, msg) {
		const p = msg.participant;
		if (p && p.id)
			client.participants[p.id] = { hand: false, muted: false, staged: false, ...p };
		client.changed();
	},
	participant_left(client, msg) {
		const id = idOf(msg.participant);
		delete client.participants[id];
		if (client.stage === id)
			client.stage = null;
		client.changed();
	},
	hand_raised: setFlag('hand', true),
	hand_lowered: setFlag('hand', false),
	staged(client, msg) {
		for (const p of Object.values(client.participants))
			p.staged = p.id === msg.participant;
		client.stage = msg.participant;
		client.changed();
	},
	unstaged(client, msg) {
		const p = client.participant(msg.participant);
		if (p)
			p.staged = false;
		if (!msg.participant || client.stage === msg.participant)
			client.stage = null;
		client.changed();
	},
	muted: setFlag('muted', true),
	unmuted: setFlag('muted', false),
	quality(client, msg) {
		for (const q of msg.participants || []) {
			const p = client.participant(q.id);
			if (p)
				p.quality = { bitrate_kbps: q.bitrate_kbps, loss_pct: q.loss_pct, rtt_ms: q.rtt_ms,
					estimate_kbps: q.estimate_kbps };
		}
		client.changed();
	},
	sources(client, msg) {
		client.feeds = Array.isArray(msg.sources) ? msg.sources : [];
		client.changed();
	},
	chat(client, msg) {
		client.dispatchEvent(new CustomEvent('chat', { detail: msg }));
	},
	lesson_ended(client) {
		client.timings.ended = performance.now();
		client.teardown();
		client.setState('ended');
	},
	subscribe_offer(client, msg) {
		client.queueSubscribe(msg);
	},
	candidate(client, msg) {
		client.onRemoteCandidate(msg);
	},
};
