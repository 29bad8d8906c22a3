// Runs inside headless Chromium. A WebRTC peer configured like JsSIP's RTCSession
// (rtcpMuxPolicy 'require', unified plan, non-trickle: SDP read after gathering completes),
// with JsSIP's browser bundle loaded on the page. Received RFC 4733 telephone-events are read
// from the receiver's encoded frames (payload type in the frame metadata).
/* global JsSIP */
'use strict';

window.peer = {
  pc: null,
  stream: null,
  sender: null,
  eventPayloadTypes: new Set(),
  dtmfSeen: new Set(),
  dtmfDigits: '',
  framesByPt: {},

  async setup() {
    if (typeof JsSIP === 'undefined' || !JsSIP.version) {
      throw new Error('JsSIP bundle not loaded');
    }
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    this.pc = new RTCPeerConnection({
      iceServers: [],
      rtcpMuxPolicy: 'require',
      encodedInsertableStreams: true,
    });
    this.pc.ontrack = (event) => this.readReceiver(event.receiver);
    this.sender = this.pc.addTrack(this.stream.getAudioTracks()[0], this.stream);
    this.passThrough(this.sender.createEncodedStreams());
    return { jssip: JsSIP.version, userAgent: navigator.userAgent };
  },

  passThrough({ readable, writable }) {
    readable.pipeTo(writable).catch(() => {});
  },

  readReceiver(receiver) {
    const { readable, writable } = receiver.createEncodedStreams();
    const peer = this;
    const transform = new TransformStream({
      transform(frame, controller) {
        const meta = frame.getMetadata();
        const pt = meta.payloadType;
        peer.framesByPt[pt] = (peer.framesByPt[pt] || 0) + 1;
        if (peer.eventPayloadTypes.has(pt)) {
          const bytes = new Uint8Array(frame.data);
          const key = `${meta.rtpTimestamp}/${bytes[0]}`;
          if (bytes.length >= 4 && !peer.dtmfSeen.has(key)) {
            peer.dtmfSeen.add(key);
            peer.dtmfDigits += '0123456789*#ABCD'[bytes[0]] || '?';
          }
        }
        controller.enqueue(frame);
      },
    });
    readable.pipeThrough(transform).pipeTo(writable).catch(() => {});
  },

  noteEventPayloadTypes(sdp) {
    for (const match of sdp.matchAll(/a=rtpmap:(\d+) telephone-event\/\d+/g)) {
      this.eventPayloadTypes.add(Number(match[1]));
    }
  },

  async gathered() {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise((resolve) => {
      const check = () => {
        if (this.pc.iceGatheringState === 'complete') resolve();
      };
      this.pc.addEventListener('icegatheringstatechange', check);
      setTimeout(resolve, 5000);
    });
  },

  async answer(offer) {
    this.noteEventPayloadTypes(offer);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  },

  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    const sdp = this.pc.localDescription.sdp;
    this.noteEventPayloadTypes(sdp);
    return sdp;
  },

  async applyAnswer(answer) {
    this.noteEventPayloadTypes(answer);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return 'ok';
  },

  async stats() {
    const report = await this.pc.getStats();
    const out = { connection: this.pc.connectionState, inbound: null, outbound: null };
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound = {
          packetsReceived: s.packetsReceived,
          packetsLost: s.packetsLost,
          audioLevel: s.audioLevel,
          totalAudioEnergy: s.totalAudioEnergy,
          jitter: s.jitter,
        };
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound = { packetsSent: s.packetsSent };
      }
    });
    out.framesByPayloadType = this.framesByPt;
    return out;
  },

  dtmf(tones) {
    this.sender.dtmf.insertDTMF(tones, 100, 70);
    return 'ok';
  },

  receivedDtmf() {
    return this.dtmfDigits;
  },

  // Benchmark: two RTCPeerConnections in this page exchange complete SDP; measures, per run,
  // the time from setRemoteDescription(answer) on the offerer to its first received RTP
  // packet and to its first decoded audio (remote track played by an <audio> element).
  async loopbackTiming(runs) {
    const results = [];
    const track = this.stream.getAudioTracks()[0];
    const gathered = (pc) =>
      pc.iceGatheringState === 'complete'
        ? Promise.resolve()
        : new Promise((resolve) => {
          pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState === 'complete') resolve();
          });
          setTimeout(resolve, 5000);
        });
    for (let i = 0; i < runs; i++) {
      const config = { iceServers: [], rtcpMuxPolicy: 'require' };
      const a = new RTCPeerConnection(config);
      const b = new RTCPeerConnection(config);
      const audio = new Audio();
      audio.muted = false;
      a.ontrack = (event) => {
        audio.srcObject = new MediaStream([event.track]);
        audio.play().catch(() => {});
      };
      a.addTrack(track.clone());
      b.addTrack(track.clone());
      await a.setLocalDescription(await a.createOffer());
      await gathered(a);
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(await b.createAnswer());
      await gathered(b);
      const start = performance.now();
      await a.setRemoteDescription(b.localDescription);
      let firstPacket = null;
      let firstDecoded = null;
      while (performance.now() - start < 10000 && firstDecoded === null) {
        const report = await a.getStats();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') {
            if (firstPacket === null && s.packetsReceived > 0) firstPacket = performance.now() - start;
            if (firstDecoded === null && s.totalSamplesReceived > 0) {
              firstDecoded = performance.now() - start;
            }
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      results.push({ firstPacketMs: firstPacket, firstDecodedMs: firstDecoded });
      a.close();
      b.close();
    }
    return results;
  },
};
