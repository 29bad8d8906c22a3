// Runs inside headless Chromium (bundled with JsSIP by esbuild in ua-peer.js): one JsSIP user
// agent registered over WebSocket, as a web softphone would run it, driven by Sipline's tests
// through `window.agent`. Calls use the fake microphone (a periodic beep). Every JsSIP event the
// tests care about is queued and taken with `waitEvent`. Received RFC 4733 telephone-events are
// read from the receiver's encoded frames (Chromium surfaces them nowhere else).
'use strict';

const JsSIP = require('jssip');

// Loopback-only ICE like JsSIP's defaults otherwise; encoded streams let us see
// telephone-event frames.
const PC_CONFIG = { iceServers: [], rtcpMuxPolicy: 'require', encodedInsertableStreams: true };

const agent = {
  ua: null,
  session: null,
  stream: null,
  events: [],
  waiters: [],
  infoDigits: '',
  rtpDigits: '',
  rtpSeen: new Set(),

  note(type, detail = {}) {
    const event = { type, ...detail };
    console.log(`event ${JSON.stringify(event)}`);
    const waiter = this.waiters.findIndex((w) => w.type === type);
    if (waiter >= 0) {
      this.waiters.splice(waiter, 1)[0].resolve(event);
    } else {
      this.events.push(event);
    }
  },

  // The oldest queued event of `type`, waiting up to `timeout` ms for one.
  waitEvent({ type, timeout = 10000 }) {
    const index = this.events.findIndex((e) => e.type === type);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) {
          this.waiters.splice(at, 1);
          const queued = this.events.map((e) => e.type).join(', ');
          reject(new Error(`no ${type} event within ${timeout} ms (queued: ${queued})`));
        }
      }, timeout);
    });
  },

  async start({ wsUrl, uri, password, displayName }) {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    const socket = new JsSIP.WebSocketInterface(wsUrl);
    this.ua = new JsSIP.UA({
      sockets: [socket],
      uri,
      password,
      display_name: displayName,
      register: true,
    });
    this.ua.on('registered', () => this.note('registered'));
    this.ua.on('unregistered', () => this.note('unregistered'));
    this.ua.on('registrationFailed', (e) => this.note('registrationFailed', { cause: e.cause }));
    this.ua.on('newRTCSession', (e) => this.track(e.session, e.originator, e.request));
    this.ua.start();
    await this.waitEvent({ type: 'registered', timeout: 10000 });
    return { jssip: JsSIP.version, userAgent: navigator.userAgent };
  },

  track(session, originator, request) {
    this.session = session;
    this.infoDigits = '';
    this.rtpDigits = '';
    this.rtpSeen = new Set();
    // An outgoing session has its connection already (JsSIP announces the session after
    // creating it, before adding tracks); an incoming one gets it when answered.
    if (session.connection) {
      this.hookConnection(session.connection);
    } else {
      session.on('peerconnection', (e) => this.hookConnection(e.peerconnection));
    }
    session.on('progress', (e) => this.note('progress', { status: e.response && e.response.status_code }));
    session.on('accepted', () => this.note('accepted'));
    session.on('confirmed', () => this.note('confirmed'));
    session.on('ended', (e) => this.note('ended', { originator: e.originator, cause: e.cause }));
    session.on('failed', (e) => this.note('failed', { originator: e.originator, cause: e.cause }));
    session.on('newDTMF', (e) => {
      if (e.originator === 'remote') {
        this.infoDigits += e.dtmf.tone;
        this.note('dtmf', { tone: e.dtmf.tone });
      }
    });
    this.note(originator === 'remote' ? 'incoming' : 'outgoing', {
      uri: session.remote_identity.uri.toString(),
      displayName: session.remote_identity.display_name || null,
      hasSdp: Boolean(request && request.body),
    });
  },

  // With encoded streams on, every sender and receiver must be piped or no media flows.
  hookConnection(pc) {
    const addTrack = pc.addTrack.bind(pc);
    pc.addTrack = (...args) => {
      const sender = addTrack(...args);
      const { readable, writable } = sender.createEncodedStreams();
      readable.pipeTo(writable).catch(() => {});
      return sender;
    };
    pc.addEventListener('track', (e) => {
      this.readReceiver(pc, e.receiver);
      // Played, as a softphone page would: Chromium then decodes it and reports its energy.
      const audio = new Audio();
      audio.srcObject = e.streams[0] || new MediaStream([e.track]);
      audio.play().catch((err) => console.log(`play: ${err.message}`));
    });
  },

  readReceiver(pc, receiver) {
    const { readable, writable } = receiver.createEncodedStreams();
    const agent = this;
    const eventTypes = () => {
      const types = new Set();
      for (const d of [pc.localDescription, pc.remoteDescription]) {
        for (const m of ((d && d.sdp) || '').matchAll(/a=rtpmap:(\d+) telephone-event\/\d+/g)) {
          types.add(Number(m[1]));
        }
      }
      return types;
    };
    const transform = new TransformStream({
      transform(frame, controller) {
        const meta = frame.getMetadata();
        if (eventTypes().has(meta.payloadType)) {
          const bytes = new Uint8Array(frame.data);
          const key = `${meta.rtpTimestamp}/${bytes[0]}`;
          if (bytes.length >= 4 && !agent.rtpSeen.has(key)) {
            agent.rtpSeen.add(key);
            agent.rtpDigits += '0123456789*#ABCD'[bytes[0]] || '?';
          }
        }
        controller.enqueue(frame);
      },
    });
    readable.pipeThrough(transform).pipeTo(writable).catch(() => {});
  },

  call({ target }) {
    this.ua.call(target, { mediaStream: this.stream, pcConfig: PC_CONFIG });
    return 'ok';
  },

  answer() {
    if (!this.session) throw new Error('no session to answer');
    this.session.answer({ mediaStream: this.stream, pcConfig: PC_CONFIG });
    return 'ok';
  },

  hangup() {
    if (!this.session) throw new Error('no session to hang up');
    this.session.terminate();
    return 'ok';
  },

  // transport: 'INFO' or 'RFC2833' (JsSIP's name for RFC 4733 through RTCDTMFSender).
  dtmf({ tones, transport }) {
    if (!this.session) throw new Error('no session for DTMF');
    this.session.sendDTMF(tones, { transportType: transport, duration: 100, interToneGap: 70 });
    return 'ok';
  },

  receivedDtmf() {
    return { info: this.infoDigits, rtp: this.rtpDigits };
  },

  async stats() {
    const pc = this.session && this.session.connection;
    if (!pc) return { connection: null, inbound: null, outbound: null };
    const report = await pc.getStats();
    const out = { connection: pc.connectionState, inbound: null, outbound: null };
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound = {
          packetsReceived: s.packetsReceived,
          packetsLost: s.packetsLost,
          audioLevel: s.audioLevel,
          totalAudioEnergy: s.totalAudioEnergy,
        };
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound = { packetsSent: s.packetsSent };
      }
    });
    return out;
  },

  async stop() {
    if (this.ua) {
      this.ua.stop();
      await this.waitEvent({ type: 'unregistered', timeout: 3000 }).catch(() => {});
    }
    return 'ok';
  },
};

window.agent = agent;
