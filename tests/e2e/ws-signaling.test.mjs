// The lesson WebSocket (signaling/PROTOCOL.md, "The lesson WebSocket")
// against the real server, without media: a teacher, two classrooms and an
// observer join one lesson; joins and leaves, hands, stage, mute and chat are
// broadcast; refused messages (wrong role, bad JSON, unknown type, oversized,
// before join, a bad `view`) answer an error, change nothing and leave the socket usable;
// a classroom joining again under its name replaces its old socket; end_lesson closes
// everyone.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules (`make test` runs `npm ci`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { request } from './lib/http.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await ketangBinary();

const LESSON = 'ws-lesson';
const PROTOCOL = 'ketang.v1';
const QUIET_MS = 300; // how long "nothing else arrives" is watched

/** A client socket that queues what it receives, for in-order assertions. */
class Client {
	constructor(url, name, { protocol = PROTOCOL, autoPong = true } = {}) {
		this.name = name;
		this.queue = [];
		this.waiters = [];
		this.ws = new WebSocket(url, protocol ? [protocol] : [],
			{ rejectUnauthorized: false, autoPong });
		this.closed = new Promise((resolve) => {
			this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
		});
		this.ws.on('message', (data, isBinary) => {
			assert.equal(isBinary, false, `${name}: got a binary frame`);
			const msg = JSON.parse(data.toString());
			const waiter = this.waiters.shift();
			if (waiter)
				waiter(msg);
			else
				this.queue.push(msg);
		});
	}

	open() {
		return new Promise((resolve, reject) => {
			this.ws.once('open', resolve);
			this.ws.once('error', reject);
		});
	}

	send(obj) {
		this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
	}

	/** The next message, within timeoutMs. */
	next(timeoutMs = 5000) {
		if (this.queue.length)
			return Promise.resolve(this.queue.shift());
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(done), 1);
				reject(new Error(`${this.name}: no message within ${timeoutMs} ms`));
			}, timeoutMs);
			const done = (msg) => {
				clearTimeout(timer);
				resolve(msg);
			};
			this.waiters.push(done);
		});
	}

	/** The next message must be of `type` (and carry the given fields). */
	async expect(type, fields = {}) {
		const msg = await this.next();
		assert.equal(msg.type, type, `${this.name}: expected ${type}, got ${JSON.stringify(msg)}`);
		for (const [k, v] of Object.entries(fields))
			assert.deepEqual(msg[k], v, `${this.name}: ${type}.${k} in ${JSON.stringify(msg)}`);
		return msg;
	}

	async expectError(code, id) {
		const msg = await this.expect('error', { code });
		assert.equal(typeof msg.message, 'string');
		assert.ok(msg.message.length > 0, `${this.name}: empty error message`);
		if (id !== undefined)
			assert.equal(msg.id, id, `${this.name}: error without the request id`);
		return msg;
	}

	/** Nothing arrives for a while. */
	async expectQuiet(ms = QUIET_MS) {
		await new Promise((resolve) => setTimeout(resolve, ms));
		assert.deepEqual(this.queue, [], `${this.name}: unexpected messages`);
	}
}

describe('lesson WebSocket signaling', () => {
	let server;
	let url;
	const tokens = {};
	const clients = [];
	let teacher, roomA, roomB, observer;

	async function connect(name, opts) {
		const c = new Client(url, name, opts);
		clients.push(c);
		await c.open();
		return c;
	}

	async function join(name, token, extra = {}) {
		const c = await connect(name);
		c.send({ type: 'join', id: 1, token, ...extra });
		const joined = await c.expect('joined', { id: 1 });
		c.id = joined.participant.id;
		c.joined = joined;
		return c;
	}

	before(async () => {
		server = await startServer();
		url = `${server.origin.replace('https:', 'wss:')}/ws`;
		for (const role of ['teacher', 'classroom', 'observer'])
			tokens[role] = await server.token(LESSON, role);
		tokens.admin = await server.token('', 'admin').catch(() => null);
	});

	after(async () => {
		for (const c of clients)
			c.ws.terminate();
		if (server)
			await server.stop();
	});

	it('joins a teacher, two classrooms and an observer', async () => {
		teacher = await join('teacher', tokens.teacher, { name: 'Ms Li' });
		assert.deepEqual(teacher.joined.participant,
			{ id: teacher.id, role: 'teacher', name: 'Ms Li', hand: false, muted: false, staged: false });
		assert.equal(teacher.joined.lesson.id, LESSON);
		assert.equal(teacher.joined.lesson.state, 'live');
		assert.equal(teacher.joined.participants.length, 1);
		assert.equal(teacher.joined.stage, null);

		roomA = await join('roomA', tokens.classroom, { name: 'Room A 双峰二小' });
		assert.equal(roomA.joined.participant.role, 'classroom');
		assert.equal(roomA.joined.participant.name, 'Room A 双峰二小');
		assert.deepEqual(roomA.joined.participants.map((p) => p.id).sort(), [teacher.id, roomA.id].sort());
		const seen = await teacher.expect('participant_joined');
		assert.equal(seen.participant.id, roomA.id);
		assert.equal(seen.participant.name, 'Room A 双峰二小');

		roomB = await join('roomB', tokens.classroom);
		assert.match(roomB.joined.participant.name, /^Classroom \d+$/);
		for (const c of [teacher, roomA])
			assert.equal((await c.expect('participant_joined')).participant.id, roomB.id);

		observer = await join('observer', tokens.observer);
		assert.equal(observer.joined.participant.role, 'observer');
		assert.equal(observer.joined.participants.length, 4);
		for (const c of [teacher, roomA, roomB])
			assert.equal((await c.expect('participant_joined')).participant.id, observer.id);
		assert.notEqual(roomA.id, roomB.id);
	});

	it('broadcasts a raised hand to the teacher and everyone', async () => {
		roomA.send({ type: 'raise_hand', id: 'h1' });
		await roomA.expect('hand_raised', { participant: roomA.id, id: 'h1' });
		const t = await teacher.expect('hand_raised', { participant: roomA.id });
		assert.equal(t.id, undefined, 'only the requester gets the id');
		await roomB.expect('hand_raised', { participant: roomA.id });
		await observer.expect('hand_raised', { participant: roomA.id });
	});

	it('stage, unstage, mute, unmute are broadcast', async () => {
		const everyone = [teacher, roomA, roomB, observer];
		teacher.send({ type: 'stage', id: 2, participant: roomA.id });
		for (const c of everyone) {
			await c.expect('hand_lowered', { participant: roomA.id });
			await c.expect('staged', { participant: roomA.id });
		}
		teacher.send({ type: 'unstage', id: 3 });
		for (const c of everyone)
			await c.expect('unstaged', { participant: roomA.id });
		teacher.send({ type: 'mute', id: 4, participant: roomB.id });
		for (const c of everyone)
			await c.expect('muted', { participant: roomB.id });
		teacher.send({ type: 'unmute', id: 5, participant: roomB.id });
		for (const c of everyone)
			await c.expect('unmuted', { participant: roomB.id });
		teacher.send({ type: 'unstage', id: 6 });
		await teacher.expectError('wrong-state', 6);
		teacher.send({ type: 'mute', id: 7, participant: 'p999' });
		await teacher.expectError('no-such-participant', 7);
	});

	it('chat reaches everyone with sender, name and time', async () => {
		const before = Date.now();
		roomB.send({ type: 'chat', id: 8, text: '老师好 hello' });
		for (const c of [teacher, roomA, roomB, observer]) {
			const m = await c.expect('chat', { from: roomB.id, name: roomB.joined.participant.name,
				text: '老师好 hello' });
			assert.ok(m.at >= before - 1000 && m.at <= Date.now() + 1000, `chat.at ${m.at}`);
		}
	});

	it('refuses teacher commands from a classroom and changes nothing', async () => {
		roomB.send({ type: 'stage', id: 9, participant: roomB.id });
		await roomB.expectError('wrong-role', 9);
		roomB.send({ type: 'end_lesson', id: 10 });
		await roomB.expectError('wrong-role', 10);
		observer.send({ type: 'raise_hand', id: 11 });
		await observer.expectError('wrong-role', 11);
		await Promise.all([teacher, roomA, roomB, observer].map((c) => c.expectQuiet()));
	});

	it('refuses a bad view (wrong role, bad or missing mode, unknown field); nothing changes', async () => {
		roomB.send({ type: 'view', id: 30, mode: 'wall' });
		await roomB.expectError('wrong-role', 30);
		observer.send({ type: 'view', id: 31, mode: 'individual' });
		await observer.expectError('wrong-role', 31);
		teacher.send({ type: 'view', id: 32, mode: 'mosaic' });
		const bad = await teacher.expectError('bad-message', 32);
		assert.match(bad.message, /mode: must be one of wall, individual/);
		teacher.send({ type: 'view', id: 33 });
		assert.match((await teacher.expectError('bad-message', 33)).message, /mode: missing/);
		teacher.send({ type: 'view', id: 34, mode: 1 });
		await teacher.expectError('bad-message', 34);
		teacher.send({ type: 'view', id: 35, mode: 'wall', layout: '3x3' });
		assert.match((await teacher.expectError('bad-message', 35)).message, /layout: not a field of view/);
		// Fields are checked before the role: a classroom's bad view is a bad message.
		roomB.send({ type: 'view', id: 36, mode: 'WALL' });
		await roomB.expectError('bad-message', 36);
		await Promise.all([teacher, roomA, roomB, observer].map((c) => c.expectQuiet()));
	});

	it('answers bad input with errors and the socket stays usable', async () => {
		roomA.send('{"type": "chat", "text": ');
		await roomA.expectError('bad-json');
		roomA.send({ type: 'dance', id: 12 });
		await roomA.expectError('unknown-type', 12);
		roomA.send({ type: 'chat', id: 13 });
		const missing = await roomA.expectError('bad-message', 13);
		assert.match(missing.message, /text/);
		roomA.send({ type: 'chat', text: 'x'.repeat(70 * 1024) });
		await roomA.expectError('too-large');
		// Still usable: its hand went down when it was staged, so it can raise it.
		roomA.send({ type: 'raise_hand', id: 14 });
		await roomA.expect('hand_raised', { participant: roomA.id, id: 14 });
		for (const c of [teacher, roomB, observer])
			await c.expect('hand_raised', { participant: roomA.id });
		roomA.send({ type: 'raise_hand', id: 15 });
		await roomA.expectError('wrong-state', 15);
	});

	it('answers not-joined before join, then the socket joins', async () => {
		const c = await connect('late');
		c.send({ type: 'chat', id: 1, text: 'hi' });
		await c.expectError('not-joined', 1);
		c.send({ type: 'stage', id: 2, participant: roomA.id });
		await c.expectError('not-joined', 2);
		c.send('not json at all');
		await c.expectError('bad-json');
		c.send({ type: 'join', id: 3, token: tokens.observer });
		const joined = await c.expect('joined', { id: 3 });
		assert.equal(joined.participants.length, 5);
		for (const o of [teacher, roomA, roomB, observer])
			await o.expect('participant_joined');
		c.ws.close(1000);
		await c.closed;
		for (const o of [teacher, roomA, roomB, observer])
			await o.expect('participant_left', { participant: joined.participant.id });
	});

	it('refuses a bad token and a second teacher with close code 4001', async () => {
		const forged = await connect('forged');
		forged.send({ type: 'join', token: tokens.teacher.slice(0, -4) + 'AAAA' });
		const err = await forged.expectError('bad-token');
		assert.ok(!err.message.includes(tokens.teacher.split('.')[4]), 'token quoted back');
		assert.equal((await forged.closed).code, 4001);

		const second = await connect('second-teacher');
		second.send({ type: 'join', token: tokens.teacher });
		await second.expectError('wrong-state');
		assert.equal((await second.closed).code, 4001);
		await teacher.expectQuiet();
	});

	it('a classroom joining again under its name replaces its old socket (replaced, 4002)', async () => {
		const again = await join('roomA-again', tokens.classroom, { name: 'Room A 双峰二小' });
		await roomA.expectError('replaced');
		assert.equal((await roomA.closed).code, 4002);
		for (const c of [teacher, roomB, observer]) {
			await c.expect('participant_left', { participant: roomA.id });
			assert.equal((await c.expect('participant_joined')).participant.id, again.id);
		}
		const names = again.joined.participants.map((p) => p.name);
		assert.equal(names.filter((n) => n === 'Room A 双峰二小').length, 1, JSON.stringify(names));
		assert.ok(!again.joined.participants.some((p) => p.id === roomA.id), 'the old id is still listed');
		await teacher.expectQuiet();
		// Its hand went with the old id: raised again, for the tests below.
		again.send({ type: 'raise_hand', id: 'h2' });
		for (const c of [again, teacher, roomB, observer])
			await c.expect('hand_raised', { participant: again.id });
		roomA = again;
	});

	it('only upgrades /ws with the ketang.v1 subprotocol', async () => {
		const wss = server.origin.replace('https:', 'wss:');
		const attempts = [[`${wss}/other`, [PROTOCOL]], [url, ['chat']],
			// Refused by the kt-http protocol (lws offers it sockets that name no protocol).
			[url, []]];
		for (const [target, protocols] of attempts) {
			const ws = new WebSocket(target, protocols, { rejectUnauthorized: false });
			await assert.rejects(new Promise((resolve, reject) => {
				ws.once('open', resolve);
				ws.once('error', reject);
			}), `${target} ${JSON.stringify(protocols)} was upgraded`);
			ws.terminate();
		}
	});

	it('end_lesson tells everyone and closes every socket normally', async () => {
		const everyone = [teacher, roomA, roomB, observer];
		roomA.send({ type: 'lower_hand', id: 16 });
		for (const c of everyone)
			await c.expect('hand_lowered', { participant: roomA.id });
		teacher.send({ type: 'end_lesson', id: 17 });
		await teacher.expect('lesson_ended', { id: 17 });
		for (const c of [roomA, roomB, observer])
			await c.expect('lesson_ended');
		for (const c of everyone)
			assert.equal((await c.closed).code, 1000, `${c.name} close code`);

		const late = await connect('after-end');
		late.send({ type: 'join', token: tokens.classroom });
		await late.expectError('lesson-ended');
		assert.equal((await late.closed).code, 4001);
	});
});

describe('a lesson everyone left', () => {
	/** Live lessons, from /healthz. */
	async function liveLessons(origin) {
		const res = await request(`${origin}/healthz`);
		assert.equal(res.status, 200, res.body);
		return JSON.parse(res.body).lessons;
	}

	/** Resolves the ms until the server has no live lesson (fails after timeoutMs). */
	async function msUntilNoLesson(origin, timeoutMs) {
		const from = Date.now();
		while (Date.now() - from < timeoutMs) {
			if (await liveLessons(origin) === 0)
				return Date.now() - from;
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		assert.fail(`a lesson is still live ${timeoutMs} ms on`);
	}

	async function joinAs(url, token, name) {
		const c = new Client(url, name);
		await c.open();
		c.send({ type: 'join', id: 1, token, name });
		const joined = await c.expect('joined', { id: 1 });
		return Object.assign(c, { joined });
	}

	it('stays live for [lesson] empty_timeout, goes on for whoever comes back, then ends', async () => {
		const server = await startServer({ extraConfig: '[lesson]\nempty_timeout = 2\n' });
		try {
			const url = `${server.origin.replace('https:', 'wss:')}/ws`;
			const token = await server.token('linger', 'teacher');
			let teacher = await joinAs(url, token, 'Ms Li');
			assert.equal(await liveLessons(server.origin), 1);
			// Everyone leaves (the teacher was alone): the lesson stays live.
			teacher.ws.close();
			await teacher.closed;
			await new Promise((resolve) => setTimeout(resolve, 1000));
			assert.equal(await liveLessons(server.origin), 1, 'ended before empty_timeout');
			// Back within the timeout: the same live lesson goes on.
			teacher = await joinAs(url, token, 'Ms Li');
			assert.equal(teacher.joined.lesson.state, 'live');
			teacher.ws.close();
			await teacher.closed;
			// Nobody comes back: it ends about empty_timeout (2 s) after the last left.
			const ms = await msUntilNoLesson(server.origin, 6000);
			console.log(`everyone left -> lesson ended after ${ms} ms (empty_timeout = 2 s)`);
			assert.ok(ms >= 1500, `ended ${ms} ms after everyone left`);

			// A lesson the teacher ends ends at once, without the timeout.
			teacher = await joinAs(url, await server.token('ended-now', 'teacher'), 'Ms Li');
			teacher.send({ type: 'end_lesson', id: 2 });
			await teacher.expect('lesson_ended', { id: 2 });
			await teacher.closed;
			const endMs = await msUntilNoLesson(server.origin, 1500);
			console.log(`end_lesson -> lesson ended after ${endMs} ms`);
		} finally {
			await server.stop();
		}
	});
});

describe('the classroom wall switched off', () => {
	it('answers view wall with unavailable; the teacher stays individual', async () => {
		const server = await startServer({ extraConfig: '[wall]\nenabled = false\n' });
		const c = new Client(`${server.origin.replace('https:', 'wss:')}/ws`, 'teacher');
		try {
			await c.open();
			c.send({ type: 'join', id: 1, token: await server.token('no-wall', 'teacher') });
			await c.expect('joined', { id: 1 });
			c.send({ type: 'view', id: 2, mode: 'wall' });
			const err = await c.expectError('unavailable', 2);
			assert.match(err.message, /\[wall\] enabled = false/);
			c.send({ type: 'view', id: 3, mode: 'individual' });
			await c.expect('ok', { id: 3 });
			await c.expectQuiet();
		} finally {
			c.ws.terminate();
			await server.stop();
		}
	});
});

describe('[limits] on the lesson WebSocket', () => {
	const extraConfig = '[limits]\nmax_participants = 2\nws_message_rate = 5\n' +
		'ws_message_burst = 10\nws_idle_timeout = 10\n';
	let server, url;

	before(async () => {
		server = await startServer({ extraConfig });
		url = `${server.origin.replace('https:', 'wss:')}/ws`;
	});
	after(async () => {
		await server.stop();
	});

	async function joinAs(lesson, role, name) {
		const c = new Client(url, name);
		await c.open();
		c.send({ type: 'join', id: 1, token: await server.token(lesson, role), name });
		const joined = await c.expect('joined', { id: 1 });
		return Object.assign(c, { joined, id: joined.participant.id });
	}

	it('refuses one participant over max_participants, never the teacher', async () => {
		const a = await joinAs('full', 'classroom', 'A');
		const b = await joinAs('full', 'classroom', 'B');
		await a.expect('participant_joined');
		const c = new Client(url, 'C');
		await c.open();
		c.send({ type: 'join', id: 1, token: await server.token('full', 'classroom'), name: 'C' });
		await c.expectError('lesson-full', 1);
		assert.equal((await c.closed).code, 4001);
		await a.expectQuiet();
		// The teacher still gets in.
		const t = await joinAs('full', 'teacher', 'Ms Li');
		assert.equal(t.joined.participants.length, 3);
		for (const x of [a, b, t])
			x.ws.close();
	});

	it('drops a flood over ws_message_rate with one error, then closes it (1008)', async () => {
		const listener = await joinAs('flood', 'teacher', 'Ms Li');
		const flood = await joinAs('flood', 'classroom', 'Flood');
		await listener.expect('participant_joined');
		const started = Date.now();
		for (let i = 0; i < 40; i++)
			flood.send({ type: 'chat', text: `spam ${i}` });
		const closed = await flood.closed;
		const errors = flood.queue.filter((m) => m.type === 'error');
		assert.equal(closed.code, 1008, `closed with ${closed.code}`);
		assert.equal(errors.length, 1, JSON.stringify(errors));
		assert.equal(errors[0].code, 'rate-limited');
		// The listener heard the burst (the join took one token), then the flooder leave.
		const heard = [];
		for (let m = await listener.next(); m.type !== 'participant_left'; m = await listener.next())
			heard.push(m);
		const chats = heard.filter((m) => m.type === 'chat').length;
		console.log(`40 chats at once (rate 5/s, burst 10): closed 1008 after ` +
			`${Date.now() - started} ms; the others heard ${chats} chats`);
		assert.ok(chats >= 9 && chats <= 11, `${chats} chats got through`);
		// The teacher's socket is untouched.
		listener.queue.length = 0;
		listener.send({ type: 'chat', id: 7, text: 'still here' });
		await listener.expect('chat');
		listener.ws.close();
	});

	it('closes a socket that answers no ping after ws_idle_timeout', async () => {
		const quiet = new Client(url, 'quiet', { autoPong: false });
		// One that answers pings (as browsers do), opened at the same time, stays.
		const live = new Client(url, 'live');
		await Promise.all([quiet.open(), live.open()]);
		const opened = Date.now();
		const closed = await quiet.closed;
		const s = (Date.now() - opened) / 1000;
		console.log(`a silent socket that answers no ping: closed after ${s.toFixed(1)} s ` +
			`(ws_idle_timeout = 10), code ${closed.code}; the one answering pings is open`);
		assert.ok(s >= 9 && s < 16, `closed after ${s} s`);
		assert.equal(live.ws.readyState, WebSocket.OPEN);
		live.ws.close();
	});
});
