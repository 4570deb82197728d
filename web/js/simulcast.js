// Simulcast encodings for a teacher's camera: three layers the server picks
// from per classroom, by each classroom's bandwidth estimate (issue 5).
// Highest first: a server or browser that does not do simulcast keeps only
// the first encoding, and that should be the full picture. Chromium sends as
// many layers as the camera size allows (3 from 960x540 up, 2 from 480x270,
// 1 below); the server tells layers apart by what they carry, not by rid.
// The lowest layer is what a weak classroom link keeps: 100 kbit/s leaves a
// 250-300 kbit/s link room for the audio (with RED, ~60 kbit/s) and for the
// retransmissions its loss needs, where 150 kbit/s left it paused over and
// over (the `dip` and `weak` profiles of bench/qoe).

export const CAMERA_LAYERS = [
	{ rid: 'f', maxBitrate: 1200000 },
	{ rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
	{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 100000 },
];

// A server with [media] simulcast = false answers without a=simulcast; the
// browser then sends the first encoding alone (the full picture).
export const SIMULCAST_ENABLED = true;

/** addTransceiver init for @track: simulcast layers for video when @simulcast. */
export function transceiverInit(track, stream, simulcast) {
	const init = { direction: 'sendonly', streams: [stream] };
	if (SIMULCAST_ENABLED && simulcast && track.kind === 'video')
		init.sendEncodings = CAMERA_LAYERS.map((e) => ({ ...e }));
	return init;
}
