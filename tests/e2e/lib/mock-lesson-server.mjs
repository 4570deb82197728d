// A stand-in for Ketang's lesson WebSocket (signaling/PROTOCOL.md, "The
// lesson WebSocket"), used only to test the /teacher and /classroom pages on
// their own: serves web/ like the server (lib/mock-server.mjs) and speaks
// the protocol on /ws (subprotocol ketang.v1): join, participants, hands,
// stage, mute, chat, quality, lesson end, errors.
//
// Media: when given a relay page (installRelay below: a page of the test
// browser at this origin), the relay answers every publish offer and makes
// every subscribe offer, forwarding tracks between the pages as the server
// would (classrooms get the teacher's sources and the on-stage classroom,
// the teacher every classroom; muted audio is not forwarded). Without a
// relay, publish_offer answers an error.
//
// Tokens are not checked cryptographically: "v1.LESSON.ROLE.EXPIRY.MAC" is
// accepted as is; "expired" gives token-expired, anything else bad-token.

import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveStatic } from './mock-server.mjs';

const SUBPROTOCOL = 'ketang.v1';
const ANSWER_TIMEOUT_MS = 5000;

/** Installs the media relay functions in page (already at the mock's origin). */
export async function installRelay(page) {
	await page.evaluate(() => {
		const gather = (pc) => new Promise((resolve) => {
			if (pc.iceGatheringState === 'complete')
				return resolve();
			pc.addEventListener('icegatheringstatechange', () => {
				if (pc.iceGatheringState === 'complete')
					resolve();
			});
			setTimeout(resolve, 2000);
		});
		const pubs = new Map(); // participant -> {pc, tracks: source -> track}
		const subs = new Map(); // participant -> {pc, senders: 'pid/source' -> transceiver}
		window.relay = {
			async publish(pid, sdp, tracks) {
				let pub = pubs.get(pid);
				if (!pub) {
					pub = { pc: new RTCPeerConnection({ bundlePolicy: 'max-bundle' }), tracks: new Map() };
					pubs.set(pid, pub);
					pub.pc.ontrack = (e) => {
						// Chrome only pulls remote media that something plays.
						const sink = document.createElement(e.track.kind);
						sink.muted = true;
						sink.srcObject = new MediaStream([e.track]);
						sink.play().catch(() => {});
						document.body.append(sink);
					};
				}
				await pub.pc.setRemoteDescription({ type: 'offer', sdp });
				const byMid = new Map(tracks.map((t) => [String(t.mid), t.source]));
				pub.tracks.clear();
				for (const tr of pub.pc.getTransceivers())
					if (byMid.has(tr.mid))
						pub.tracks.set(byMid.get(tr.mid), tr.receiver.track);
				await pub.pc.setLocalDescription(await pub.pc.createAnswer());
				await gather(pub.pc);
				return pub.pc.localDescription.sdp;
			},
			async candidate(pid, kind, candidate, sdpMid) {
				const entry = (kind === 'publish' ? pubs : subs).get(pid);
				if (!entry || !entry.pc.remoteDescription)
					return;
				await entry.pc.addIceCandidate(candidate ? { candidate, sdpMid } : null).catch(() => {});
			},
			async subscribeOffer(pid, wanted) {
				let sub = subs.get(pid);
				if (sub && sub.pc.signalingState === 'closed')
					return null; // the participant left meanwhile
				if (!sub) {
					sub = { pc: new RTCPeerConnection({ bundlePolicy: 'max-bundle' }), senders: new Map() };
					subs.set(pid, sub);
				}
				const live = new Set();
				for (const w of wanted) {
					const track = pubs.get(w.participant)?.tracks.get(w.source);
					if (!track)
						continue;
					const key = `${w.participant}/${w.source}`;
					live.add(key);
					const tr = sub.senders.get(key);
					if (!tr) {
						sub.senders.set(key, sub.pc.addTransceiver(track, { direction: 'sendonly' }));
					} else {
						await tr.sender.replaceTrack(track);
						tr.direction = 'sendonly';
					}
				}
				for (const [key, tr] of sub.senders) {
					if (!live.has(key) && tr.direction !== 'inactive') {
						await tr.sender.replaceTrack(null);
						tr.direction = 'inactive';
					}
				}
				await sub.pc.setLocalDescription(await sub.pc.createOffer());
				await gather(sub.pc);
				const streams = [...sub.senders].map(([key, tr]) => {
					const [participant, source] = key.split('/');
					return { mid: tr.mid, participant, source };
				});
				return { sdp: sub.pc.localDescription.sdp, streams };
			},
			async subscribeAnswer(pid, sdp) {
				const sub = subs.get(pid);
				if (sub)
					await sub.pc.setRemoteDescription({ type: 'answer', sdp });
			},
			drop(pid) {
				for (const map of [pubs, subs]) {
					map.get(pid)?.pc.close();
					map.delete(pid);
				}
			},
		};
	});
}

function parseToken(token) {
	if (token === 'expired')
		return { error: 'token-expired' };
	const parts = typeof token === 'string' ? token.split('.') : [];
	if (parts.length !== 5 || parts[0] !== 'v1' || !['teacher', 'classroom', 'observer'].includes(parts[2]))
		return { error: 'bad-token' };
	return { lesson: parts[1], role: parts[2] };
}

/**
 * Starts the mock. Returns { origin, lessons, log, relay (settable),
 * dropAll(), setDown(bool), setQuality(name, q), close() }. log records
 * every client message as {participant, role, msg}.
 */
export async function startMockLessonServer({ relay = null, qualityMs = 1000 } = {}) {
	const lessons = new Map(); // id -> {id, title, participants: Map, stage, ended}
	const log = [];
	const quality = new Map(); // classroom name -> {bitrate_kbps, loss_pct, rtt_ms, estimate_kbps}
	let down = false;
	let nextId = 0;
	const mock = { lessons, log, relay };

	const http = createServer(async (req, res) => {
		await serveStatic(new URL(req.url, 'http://x').pathname, res);
	});
	const wss = new WebSocketServer({
		noServer: true,
		handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
	});
	http.on('upgrade', (req, socket, head) => {
		if (down || new URL(req.url, 'http://x').pathname !== '/ws') {
			socket.destroy();
			return;
		}
		wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
	});

	const send = (p, msg) => {
		if (p.ws.readyState === p.ws.OPEN)
			p.ws.send(JSON.stringify(msg));
	};
	const broadcast = (lesson, msg) => lesson.participants.forEach((p) => send(p, msg));
	const info = (p) => ({ id: p.id, role: p.role, name: p.name, hand: p.hand, muted: p.muted, staged: p.staged });

	function wantedFor(lesson, p) {
		const all = [...lesson.participants.values()];
		const out = [];
		const add = (q, source) => {
			if (q && q.published.has(source) && !(source === 'audio' && q.muted))
				out.push({ participant: q.id, source });
		};
		if (p.role === 'teacher') {
			for (const c of all.filter((q) => q.role === 'classroom')) {
				add(c, 'camera');
				add(c, 'audio');
			}
			return out;
		}
		const teacher = all.find((q) => q.role === 'teacher');
		['camera', 'courseware', 'audio'].forEach((s) => add(teacher, s));
		if (lesson.stage && lesson.stage !== p.id) {
			add(lesson.participants.get(lesson.stage), 'camera');
			add(lesson.participants.get(lesson.stage), 'audio');
		}
		return out;
	}

	// Each participant's subscribe negotiations run one at a time: an offer,
	// then its answer, then the next.
	function updateSubscriptions(lesson) {
		for (const p of lesson.participants.values()) {
			p.subscribeChain = p.subscribeChain.then(async () => {
				const wanted = wantedFor(lesson, p);
				const key = JSON.stringify(wanted);
				if (!mock.relay || p.closed || key === p.lastWanted)
					return;
				p.lastWanted = key;
				const offer = await mock.relay.evaluate(([pid, w]) => window.relay.subscribeOffer(pid, w)
					.catch(() => null), [p.id, wanted]); // null: the participant left meanwhile
				if (p.closed || !offer)
					return;
				const answered = new Promise((resolve) => {
					p.onAnswer = resolve;
					setTimeout(resolve, ANSWER_TIMEOUT_MS);
				});
				send(p, { type: 'subscribe_offer', sdp: offer.sdp, streams: offer.streams });
				if (process.env.MOCK_DEBUG) console.log(Date.now() % 100000, `offer -> ${p.id}`, JSON.stringify(offer.streams));
				await answered;
			}).catch((err) => console.error('mock: subscribe', err.message));
		}
	}

	const error = (p, msg, code, message) => send(p, { type: 'error', id: msg.id, code, message });
	const ok = (p, msg) => send(p, { type: 'ok', id: msg.id });
	const teacherOnly = (fn) => (p, msg, lesson) => (p.role === 'teacher'
		? fn(p, msg, lesson) : error(p, msg, 'wrong-role', `role '${p.role}' may not send ${msg.type}`));
	const classroomOnly = (fn) => (p, msg, lesson) => (p.role === 'classroom'
		? fn(p, msg, lesson) : error(p, msg, 'wrong-role', `role '${p.role}' may not send ${msg.type}`));
	const target = (fn) => (p, msg, lesson) => {
		const q = lesson.participants.get(msg.participant);
		if (!q || q.role !== 'classroom')
			return error(p, msg, 'no-such-participant', `no classroom '${msg.participant}'`);
		return fn(p, msg, lesson, q);
	};
	const setFlag = (field, value, event) => (p, msg, lesson, q = p) => {
		q[field] = value;
		broadcast(lesson, { type: event, participant: q.id });
		ok(p, msg);
		if (field === 'muted')
			updateSubscriptions(lesson);
	};

	const HANDLERS = {
		raise_hand: classroomOnly(setFlag('hand', true, 'hand_raised')),
		lower_hand: classroomOnly(setFlag('hand', false, 'hand_lowered')),
		stage: teacherOnly(target((p, msg, lesson, q) => {
			if (q.hand) { // as the server does: the floor answers the hand
				q.hand = false;
				broadcast(lesson, { type: 'hand_lowered', participant: q.id });
			}
			lesson.participants.forEach((x) => { x.staged = x === q; });
			lesson.stage = q.id;
			broadcast(lesson, { type: 'staged', participant: q.id });
			ok(p, msg);
			updateSubscriptions(lesson);
		})),
		unstage: teacherOnly((p, msg, lesson) => {
			if (!lesson.stage)
				return error(p, msg, 'wrong-state', 'nobody is on stage');
			const id = lesson.stage;
			lesson.participants.forEach((x) => { x.staged = false; });
			lesson.stage = null;
			broadcast(lesson, { type: 'unstaged', participant: id });
			ok(p, msg);
			updateSubscriptions(lesson);
		}),
		mute: teacherOnly(target((p, msg, lesson, q) => setFlag('muted', true, 'muted')(p, msg, lesson, q))),
		unmute: teacherOnly(target((p, msg, lesson, q) => setFlag('muted', false, 'unmuted')(p, msg, lesson, q))),
		end_lesson: teacherOnly((p, msg, lesson) => {
			ok(p, msg);
			broadcast(lesson, { type: 'lesson_ended' });
			lesson.ended = true;
			lesson.participants.forEach((x) => x.ws.close(1000, 'lesson ended'));
		}),
		chat: (p, msg, lesson) => {
			if (typeof msg.text !== 'string' || msg.text.length < 1 || msg.text.length > 500)
				return error(p, msg, 'bad-message', 'text: 1-500 characters');
			const chat = { type: 'chat', from: p.id, name: p.name, text: msg.text, at: Date.now() };
			lesson.chat = [...lesson.chat, chat].slice(-50);
			broadcast(lesson, chat);
			ok(p, msg);
		},
		publish_offer: async (p, msg, lesson) => {
			if (p.role === 'observer')
				return error(p, msg, 'wrong-role', 'observers publish nothing');
			if (!mock.relay)
				return error(p, msg, 'wrong-state', 'mock server without media');
			const sdp = await mock.relay.evaluate(([pid, s, t]) => window.relay.publish(pid, s, t),
				[p.id, msg.sdp, msg.tracks]);
			p.published = new Set(msg.tracks.map((t) => t.source));
			send(p, { type: 'publish_answer', id: msg.id, sdp });
			updateSubscriptions(lesson);
		},
		subscribe_answer: async (p, msg) => {
			if (process.env.MOCK_DEBUG)
				console.log(Date.now() % 100000, `answer <- ${p.id}`);
			if (mock.relay)
				await mock.relay.evaluate(([pid, s]) => window.relay.subscribeAnswer(pid, s), [p.id, msg.sdp]);
			if (p.onAnswer)
				p.onAnswer();
			if (msg.id !== undefined)
				ok(p, msg);
		},
		candidate: async (p, msg) => {
			if (mock.relay)
				await mock.relay.evaluate(([pid, k, c, m]) => window.relay.candidate(pid, k, c, m),
					[p.id, msg.pc, msg.candidate, msg.sdpMid]);
		},
	};

	function join(ws, msg) {
		const reject = (code, message) => {
			ws.send(JSON.stringify({ type: 'error', id: msg.id, code, message }));
			ws.close(4001, code);
			return null;
		};
		if (msg.type !== 'join')
			return reject('not-joined', 'join first');
		const token = parseToken(msg.token);
		if (token.error)
			return reject(token.error, 'the token was refused');
		if (!lessons.has(token.lesson))
			lessons.set(token.lesson, { id: token.lesson, title: `Mock lesson ${token.lesson}`,
				participants: new Map(), stage: null, ended: false, chat: [] });
		const lesson = lessons.get(token.lesson);
		if (lesson.ended)
			return reject('lesson-ended', 'the lesson has ended');
		if (token.role === 'teacher' && [...lesson.participants.values()].some((q) => q.role === 'teacher'))
			return reject('wrong-state', 'the lesson already has a teacher');
		const p = { id: `p${++nextId}`, role: token.role, ws, lesson,
			name: msg.name || (token.role === 'teacher' ? 'Ms Li' : `Room ${nextId}`),
			hand: false, muted: false, staged: false, published: new Set(),
			subscribeChain: Promise.resolve(), lastWanted: '[]', closed: false };
		lesson.participants.set(p.id, p);
		send(p, { type: 'joined', id: msg.id, participant: { id: p.id, role: p.role, name: p.name },
			lesson: { id: lesson.id, title: lesson.title, state: 'live' },
			participants: [...lesson.participants.values()].map(info), stage: lesson.stage,
			hands: [...lesson.participants.values()].filter((q) => q.hand).map((q) => q.id), chat: lesson.chat });
		lesson.participants.forEach((q) => {
			if (q !== p)
				send(q, { type: 'participant_joined', participant: info(p) });
		});
		return p;
	}

	function leave(p) {
		const lesson = p.lesson;
		p.closed = true;
		if (!lesson.participants.delete(p.id))
			return;
		if (mock.relay)
			mock.relay.evaluate((pid) => window.relay.drop(pid), p.id).catch(() => {});
		broadcast(lesson, { type: 'participant_left', participant: p.id });
		if (lesson.stage === p.id) {
			lesson.stage = null;
			broadcast(lesson, { type: 'unstaged', participant: p.id });
		}
		updateSubscriptions(lesson);
	}

	function accept(ws) {
		let p = null;
		// One message at a time per socket, as a server handles them in order
		// (a candidate must not overtake the offer it belongs to).
		let chain = Promise.resolve();
		ws.on('message', (data) => {
			chain = chain.then(() => onMessage(data));
		});
		const onMessage = async (data) => {
			let msg;
			try {
				msg = JSON.parse(String(data));
			} catch {
				ws.send(JSON.stringify({ type: 'error', code: 'bad-json', message: 'not JSON' }));
				return;
			}
			log.push({ participant: p && p.id, role: p && p.role, msg });
			if (!p) {
				p = join(ws, msg);
				if (p)
					updateSubscriptions(p.lesson);
				return;
			}
			const handler = HANDLERS[msg.type];
			if (msg.type === 'join')
				return error(p, msg, 'already-joined', 'already joined');
			if (!handler)
				return error(p, msg, 'unknown-type', `unknown type '${msg.type}'`);
			try {
				await handler(p, msg, p.lesson);
			} catch (err) {
				console.error(`mock: ${msg.type}`, err.message);
			}
		};
		ws.on('close', () => {
			if (p)
				leave(p);
		});
	}

	const qualityTimer = setInterval(() => {
		for (const lesson of lessons.values()) {
			const rooms = [...lesson.participants.values()].filter((q) => q.role === 'classroom');
			const report = rooms.map((q) => ({ id: q.id,
				...(quality.get(q.name) || { bitrate_kbps: 850, loss_pct: 0.4, rtt_ms: 35, estimate_kbps: 2400 }) }));
			lesson.participants.forEach((q) => {
				if (q.role === 'teacher')
					send(q, { type: 'quality', participants: report });
			});
		}
	}, qualityMs);

	await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
	mock.origin = `http://127.0.0.1:${http.address().port}`;
	/** Cuts every socket at once, as a network drop would (no close frame). */
	mock.dropAll = () => wss.clients.forEach((ws) => ws.terminate());
	/** While down, new sockets are refused (the network is still out). */
	mock.setDown = (value) => { down = value; };
	mock.setQuality = (name, q) => quality.set(name, q);
	/** Sends @msg to every participant of every lesson (e.g. a `sources` message). */
	mock.sendAll = (msg) => lessons.forEach((lesson) => broadcast(lesson, msg));
	mock.close = async () => {
		clearInterval(qualityTimer);
		wss.clients.forEach((ws) => ws.terminate());
		await new Promise((resolve) => http.close(resolve));
	};
	return mock;
}
