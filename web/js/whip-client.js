// Shared WHIP (RFC 9725) / WHEP client for the Ketang pages.
//
// Non-trickle: the caller gathers every ICE candidate first (see
// waitForIceGathering), then one POST carries the whole offer and the answer
// comes back whole in the 201 response. DELETE on the Location ends the
// session.

/** An HTTP or network failure, with a message fit to show a teacher. */
export class KetangError extends Error {
	constructor(status, code, serverMessage, message) {
		super(message);
		this.name = 'KetangError';
		this.status = status; // 0 when the server could not be reached
		this.code = code; // the server's "error" field, or a local code
		this.serverMessage = serverMessage;
	}

	/** Errors that will not go away by retrying (bad token, wrong role, bad offer). */
	get permanent() {
		return [400, 401, 403, 413, 415].includes(this.status);
	}
}

const STATUS_TEXT = {
	400: '请求无效 Bad request',
	401: '令牌缺失、无效或已过期 Token missing, invalid or expired',
	403: '无权限：令牌的角色或课堂不符 Not allowed: the token is for another role or lesson',
	404: '未找到（课堂或会话） Not found (lesson or session)',
	409: '本课已有主讲老师在推流 Another teacher is already publishing this lesson',
	413: '请求过大 Request too large',
	415: '内容类型错误 Wrong content type',
	429: '请求过于频繁 Too many requests',
	503: '服务器忙，请稍后再试 Server busy, try again later',
};

/** A bilingual description of an HTTP status. */
export function describeStatus(status) {
	if (STATUS_TEXT[status])
		return STATUS_TEXT[status];
	if (status >= 500)
		return `服务器错误 Server error (${status})`;
	return `请求失败 Request failed (${status})`;
}

/** Turns any thrown value into one readable bilingual line. */
export function describeError(err) {
	if (err instanceof KetangError)
		return err.message;
	if (err && err.name) {
		// getUserMedia failures (DOMException names).
		switch (err.name) {
		case 'NotAllowedError':
			return '未允许使用摄像头或麦克风 Camera/microphone permission denied';
		case 'NotFoundError':
			return '未找到摄像头或麦克风 No camera or microphone found';
		case 'NotReadableError':
			return '摄像头或麦克风被其他程序占用 Camera or microphone is in use by another program';
		case 'OverconstrainedError':
			return '摄像头不支持所选画质 The camera does not support the chosen quality';
		}
	}
	return `出错了 Something went wrong: ${err && err.message ? err.message : err}`;
}

async function errorFromResponse(response) {
	let code = `http_${response.status}`;
	let serverMessage = '';
	try {
		const body = await response.json();
		if (body && typeof body.error === 'string')
			code = body.error;
		if (body && typeof body.message === 'string')
			serverMessage = body.message;
	} catch {
		// Not JSON (a proxy's error page, say): the status alone must do.
	}
	let message = describeStatus(response.status);
	if (serverMessage)
		message += ` — ${serverMessage}`;
	return new KetangError(response.status, code, serverMessage, message);
}

/**
 * Resolves once ICE gathering is complete, or after timeoutMs: with every
 * candidate in the offer the server needs no trickle (RFC 9725 section 4.3
 * allows either), and a stuck STUN/TURN server only costs the cap.
 */
export function waitForIceGathering(pc, timeoutMs = 2000) {
	if (pc.iceGatheringState === 'complete')
		return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			pc.removeEventListener('icegatheringstatechange', check);
			resolve();
		};
		const check = () => {
			if (pc.iceGatheringState === 'complete')
				done();
		};
		const timer = setTimeout(done, timeoutMs);
		pc.addEventListener('icegatheringstatechange', check);
	});
}

/** One WHIP or WHEP session: post() once, close() at the end. */
export class WhipClient {
	/**
	 * @param {string} endpoint e.g. '/whip/LESSON' or '/whep/LESSON'
	 * @param {string} token bearer token for that lesson
	 */
	constructor(endpoint, token) {
		this.endpoint = new URL(endpoint, location.href).href;
		this.token = token;
		this.location = null; // session URL once the server accepted the offer
	}

	/** POSTs the offer SDP; returns the answer SDP. Throws KetangError. */
	async post(offerSdp) {
		let response;
		try {
			response = await fetch(this.endpoint, {
				method: 'POST',
				headers: {
					'Content-Type': 'application/sdp',
					Authorization: `Bearer ${this.token}`,
				},
				body: offerSdp,
				cache: 'no-store',
			});
		} catch (err) {
			throw new KetangError(0, 'network', String(err.message || err),
			                      '无法连接服务器 Cannot reach the server');
		}
		if (response.status !== 201)
			throw await errorFromResponse(response);
		const where = response.headers.get('Location');
		if (where)
			this.location = new URL(where, this.endpoint).href;
		const answer = await response.text();
		if (!answer.startsWith('v=0'))
			throw new KetangError(response.status, 'bad_answer', '',
			                      '服务器应答无效 The server sent an invalid answer');
		return answer;
	}

	/**
	 * Ends the session with DELETE on its Location. keepalive lets the
	 * request outlive a closing page. Never throws: closing is best effort.
	 */
	async close({ keepalive = false } = {}) {
		const where = this.location;
		this.location = null;
		if (!where)
			return;
		try {
			await fetch(where, {
				method: 'DELETE',
				headers: { Authorization: `Bearer ${this.token}` },
				keepalive,
			});
		} catch {
			// The server may be gone already; its ICE timeout cleans up.
		}
	}
}

/** Reads `lesson` and `token` from a '#lesson=ID&token=TOKEN' fragment or a pasted link. */
export function parseJoinLink(text) {
	const hashAt = text.indexOf('#');
	const params = new URLSearchParams(hashAt >= 0 ? text.slice(hashAt + 1) : text);
	return {
		lesson: (params.get('lesson') || '').trim(),
		token: (params.get('token') || '').trim(),
	};
}

/** Short bilingual labels for RTCPeerConnection.connectionState. */
export const CONNECTION_TEXT = {
	new: '未连接 new',
	connecting: '连接中 connecting',
	connected: '已连接 connected',
	disconnected: '连接中断 disconnected',
	failed: '连接失败 failed',
	closed: '已关闭 closed',
};
