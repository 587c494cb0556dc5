// An in-memory RTCPeerConnection with just the behaviour the SDK relies on: offer/answer state
// machine with explicit and implicit rollback (so perfect negotiation meets real glare),
// trickled candidates that are refused before a remote description, negotiated channels that open
// once both ends agree and share a usable candidate, getStats with a selected pair.

const tick = () => new Promise((r) => setTimeout(r, 0));

export function fakeRtc({ reachable = () => true } = {}) {
  const pcs = new Map();
  let next = 0;

  class FakeDataChannel {
    readyState = 'connecting';
    sent = [];
    constructor(pc, label, opts) {
      this.pc = pc;
      this.label = label;
      this.id = opts?.id;
    }

    send(text) {
      if (this.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
      this.sent.push(text);
      const peer = this.peer;
      setTimeout(() => peer.readyState === 'open' && peer.onmessage?.({ data: text }), 0);
    }

    /** Test hook: the remote end sends raw data. */
    inject(data) {
      this.onmessage?.({ data });
    }

    close() {
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      this.onclose?.();
      this.peer?.close();
    }
  }

  class FakeRTCPeerConnection {
    signalingState = 'stable';
    connectionState = 'new';
    iceGatheringState = 'new';
    localDescription = null;
    remoteDescription = null;
    remoteCandidates = [];
    #gathered = false;

    constructor(config = {}) {
      this.config = config;
      this.n = ++next;
      pcs.set(this.n, this);
    }

    createDataChannel(label, opts) {
      this.channel = new FakeDataChannel(this, label, opts);
      // As in browsers: only a channel the session does not describe yet needs negotiation.
      setTimeout(() => {
        if (this.signalingState === 'stable' && !this.remoteDescription) this.onnegotiationneeded?.();
      }, 0);
      return this.channel;
    }

    async setLocalDescription(desc) {
      await tick();
      if (this.signalingState === 'closed') throw new Error('InvalidStateError: closed');
      if (desc?.type === 'rollback') {
        if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError: rollback in ' + this.signalingState);
        this.signalingState = 'stable';
        this.localDescription = null;
        this.rollbacks = (this.rollbacks ?? 0) + 1;
        return;
      }
      const type = desc?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
      if (type === 'offer' && this.signalingState !== 'stable') throw new Error('InvalidStateError: offer in ' + this.signalingState);
      if (type === 'answer' && this.signalingState !== 'have-remote-offer') throw new Error('InvalidStateError: answer in ' + this.signalingState);
      this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
      this.localDescription = {
        type,
        sdp: `v=0\r\no=fake ${this.n}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=candidate:9 1 udp 1 10.9.9.${this.n} 9999 typ host\r\na=mid:0\r\n`,
      };
      if (!this.#gathered) {
        this.#gathered = true;
        setTimeout(() => {
          for (const address of ['127.0.0.1', `192.168.1.${this.n}`]) {
            const init = { candidate: `candidate:1 1 udp 2122260223 ${address} ${40000 + this.n} typ host`, sdpMid: '0', sdpMLineIndex: 0 };
            this.onicecandidate?.({ candidate: { ...init, toJSON: () => init } });
          }
        }, 0);
      }
      this.#maybeConnect();
    }

    async setRemoteDescription(desc) {
      await tick();
      if (desc.type === 'offer') {
        // Implicit rollback of our own offer (what browsers do for the polite peer).
        if (this.signalingState === 'have-local-offer') this.localDescription = null;
        else if (this.signalingState !== 'stable') throw new Error('InvalidStateError: offer in ' + this.signalingState);
        this.signalingState = 'have-remote-offer';
      } else {
        if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError: answer in ' + this.signalingState);
        this.signalingState = 'stable';
      }
      this.remoteDescription = desc;
      this.remotePc = pcs.get(Number(/o=fake (\d+)/.exec(desc.sdp)[1]));
      for (const line of desc.sdp.split('\r\n')) if (line.startsWith('a=candidate:')) this.remoteCandidates.push(line.slice(2));
      this.#maybeConnect();
    }

    async addIceCandidate(c) {
      if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
      this.remoteCandidates.push(c.candidate);
      this.#maybeConnect();
    }

    #ready() {
      return this.signalingState === 'stable' && this.localDescription && this.remoteDescription
        && this.remoteCandidates.some((c) => reachable(c, this));
    }

    #maybeConnect() {
      const other = this.remotePc;
      if (!other || !this.#ready() || !other.remotePc || other.remotePc !== this || !other.#ready()) return;
      if (this.connectionState === 'connected') return;
      for (const pc of [this, other]) pc.connectionState = 'connected';
      this.channel.peer = other.channel;
      other.channel.peer = this.channel;
      setTimeout(() => {
        for (const ch of [this.channel, other.channel]) {
          if (ch.readyState !== 'connecting') continue;
          ch.readyState = 'open';
          ch.onopen?.();
        }
      }, 0);
    }

    async getStats() {
      const relay = this.config.iceTransportPolicy === 'relay';
      return new Map([
        ['t', { type: 'transport', selectedCandidatePairId: 'p' }],
        ['p', { type: 'candidate-pair', localCandidateId: 'l', remoteCandidateId: 'r', state: 'succeeded', nominated: true }],
        ['l', { type: 'local-candidate', candidateType: relay ? 'relay' : 'host' }],
        ['r', { type: 'remote-candidate', candidateType: 'host' }],
      ]);
    }

    close() {
      if (this.signalingState === 'closed') return;
      this.signalingState = 'closed';
      this.connectionState = 'closed';
      this.channel?.close();
    }
  }

  return { RTCPeerConnection: FakeRTCPeerConnection, pcs };
}
