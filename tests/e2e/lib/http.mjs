// Plain HTTP(S) requests from the test process. Certificate checks are off
// for these requests only (the server's certificate is self-signed); nothing
// else in the process is affected.

import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';

/** Resolves { status, headers, body } (body as text); never throws on a status. */
export function request(url, { method = 'GET', headers = {}, body } = {}) {
	const target = new URL(url);
	const lib = target.protocol === 'https:' ? https : http;
	// Browsers always send Content-Length for a string body; so do we (the
	// server answers chunked bodies with 411).
	if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
		headers = { ...headers, 'Content-Length': Buffer.byteLength(body) };
	return new Promise((resolve, reject) => {
		const req = lib.request(target, { method, headers, rejectUnauthorized: false }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (chunk) => { text += chunk; });
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
		});
		req.on('error', reject);
		req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
		if (body !== undefined)
			req.write(body);
		req.end();
	});
}

/** Headers for a WHIP/WHEP request with an optional bearer token. */
export function sdpHeaders(token, contentType = 'application/sdp') {
	const headers = { 'Content-Type': contentType };
	if (token)
		headers.Authorization = `Bearer ${token}`;
	return headers;
}

/** Asserts a refused request: its status and a JSON body { error, message }; returns the body. */
export function assertRefused(res, status, what) {
	assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.body}`);
	let body;
	try {
		body = JSON.parse(res.body);
	} catch {
		assert.fail(`${what}: body is not JSON: ${JSON.stringify(res.body)}`);
	}
	assert.equal(typeof body.error, 'string', `${what}: no "error" string in ${res.body}`);
	assert.ok(body.error.length > 0, `${what}: empty "error"`);
	assert.equal(typeof body.message, 'string', `${what}: no "message" string in ${res.body}`);
	assert.ok(body.message.length > 0, `${what}: empty "message"`);
	return body;
}
