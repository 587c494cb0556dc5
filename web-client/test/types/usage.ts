// A typed tour of the public API, checked by `npm run typecheck` (tsc --noEmit, strict) and never
// run: it imports the package by its name, so the `exports` map's `types` entry is what is checked.
// Lines marked @ts-expect-error must stay errors: they catch types that went loose (any).
import {
  connect, Client, Room, SwitchboardError, ErrorCode, State, RoomEvent, ClientEvent, SmartMessageWindow,
  compareMessages, nextRetryDelay, CircuitBreaker, DEFAULT_OPTIONS, decodeServerFrame, validateClientFrame,
  parsePeerFrame, encodeBatch, decodeBatch, version,
} from '@switchboard/web-client';
import type {
  ConnectOptions, ConnectionState, Message, Path, PeerInfo, PresenceEvent, Stats, StateEvent, UnreadEvent,
  DivergedEvent, RemovedEvent, WindowChange, MemberList, Role, ReadsEvent, TypingEvent, TypingUser, Reaction,
} from '@switchboard/web-client';

declare function render(messages: readonly Message[]): void;

export async function tour(): Promise<void> {
  const options: ConnectOptions = {
    token: async () => 'a-jwt',
    storage: 'memory',
    waitForServer: false,
    p2p: true,
    iceCandidateFilter: (c) => (c.candidate ?? '').includes(' 127.0.0.1 '),
    rtcConfiguration: { iceServers: [] },
    reconnect: { baseMs: 250 },
    breaker: { failures: 3 },
    cache: { maxMessagesPerRoom: 100 },
    windowSize: 40,
  };
  const client: Client = await connect(['ws://localhost:8080/ws', 'ws://localhost:8082/ws'], options);
  const user: string | null = client.user;
  const state: ConnectionState = client.state;
  if (state === State.OPEN && user) console.log(client.url, client.session, client.name, client.expiresAt);

  client.on('state', ({ state, previous, retryInMs }: StateEvent) => console.log(previous, '→', state, retryInMs));
  client.on(ClientEvent.ERROR, (err) => console.warn(err.code, err.message, err.ref));
  client.on('room', (room) => render(room.messages));
  client.on('removed', ({ room, reason, dropped }: RemovedEvent) => console.log(room, reason, dropped.length));
  const off = client.on('authed', ({ user, name, expiresAt }) => console.log(user, name ?? '', expiresAt ?? 0));
  off();

  const room: Room = await client.join('lobby', { mode: 'active' });
  render(room.messages);
  room.on('message', (m: Message) => {
    const seq: number | null = m.seq;
    const path: Path | null = m.path;
    console.log(seq, m.cid, m.from, m.body, m.ts, path, m.status, m.mine);
  });
  room.on(RoomEvent.UPDATE, (m) => render([m]));
  room.on('presence', ({ event, user, name, peer }: PresenceEvent) => console.log(event, user, name, peer));
  room.on('peer', ({ peer, mode, path, rttMs }: PeerInfo) => console.log(peer, mode, path, rttMs));
  room.on('unread', ({ count, preview }: UnreadEvent) => console.log(count, preview));
  room.on('diverged', ({ removed, moved }: DivergedEvent) => console.log(removed.length, moved.length));
  room.on('window', ({ items, hasOlder, hasNewer }: WindowChange) => console.log(items.length, hasOlder, hasNewer));
  room.on('role', ({ role }) => console.log(role satisfies Role));

  const sent: Message = await room.send('안녕 👋');
  const how: Path | undefined = room.pathOf(sent.cid);
  console.log(how, room.head, room.lastSeq, room.epoch, room.unread, room.members, room.nameOf('u-1'));
  for (const peer of room.peers()) console.log(peer.path === 'connecting' ? 'wait' : peer.path);

  // History and the window a virtualized list reads.
  const older: number = await room.loadOlder();
  const newer: number = await room.loadNewer();
  console.log(older + newer, room.window.hasOlder, room.window.hasNewer);
  await room.window.jumpToLatest();
  const sorted = [...room.messages].sort(compareMessages);
  render(sorted);
  const standalone = new SmartMessageWindow<Message>({
    older: async () => ({ messages: [], hasMore: false }),
    newer: async () => ({ messages: [], hasMore: false }),
    latest: async () => ({ messages: [sent], hasMore: false }),
  }, { size: 20, pageSize: 10 });
  standalone.on('change', ({ items }) => render(items));

  await room.setMode('background');
  const members: MemberList = await room.listMembers();
  console.log(members.visibility, members.members.map((m) => m.role));

  // Errors: everything rejects with a SwitchboardError whose code is stable.
  try {
    await client.join('private-room');
  } catch (e) {
    if (e instanceof SwitchboardError && (e.code === 'forbidden' || e.code === ErrorCode.TIMEOUT)) console.log(e.ref);
  }

  const stats: Stats = client.stats();
  console.log(stats.sent.p2p + stats.received.relay, stats.outbox, stats.storage, stats.roomMoved, stats.signalErrors);

  // Lower-level helpers exported for tools and tests.
  console.log(version, DEFAULT_OPTIONS.windowSize, nextRetryDelay(3, { baseMs: 100 }), new CircuitBreaker().state);
  console.log(decodeServerFrame('{"t":"pong"}').t, validateClientFrame({ t: 'ping' })?.code);
  console.log(parsePeerFrame('{}', { maxBodyBytes: 100, from: 'u-1' })?.t, decodeBatch(encodeBatch([{ cid: 'c', body: 'b' }])));

  // Chat: names, read receipts, typing, edit/delete/react.
  const named: Client = await connect('ws://localhost:8080/ws', { name: 'Ada', p2pSeqDelayMs: 50 });
  const chat: Room = await named.join('team:7');
  chat.on('reads', ({ room, reads, unreadCount }: ReadsEvent) => console.log(room, reads['u-1'] ?? 0, unreadCount));
  chat.on('typing', ({ users }: TypingEvent) => console.log(users.map((u: TypingUser) => u.name ?? u.user).join(', ')));
  chat.markRead();
  chat.markRead(41);
  chat.typing();
  chat.typing(false);
  const cursor: number | undefined = chat.reads.get('u-1');
  const typers: TypingUser[] = chat.typingUsers;
  console.log(cursor, typers.length, chat.unreadCount, chat.rev);
  const mineMsg: Message = await chat.send('hello');
  const notRead: number | null = chat.notReadBy(mineMsg);
  const edited: Message = await chat.edit(mineMsg, 'hello (edited)');
  const reacted: Message = await chat.react(edited.seq ?? 0, '👍');
  const unreacted: Message = await chat.react(reacted, '👍', false);
  const reaction: Reaction | undefined = unreacted.reactions[0];
  console.log(notRead, edited.edited, edited.rev, edited.name, reaction?.emoji, reaction?.count, reaction?.mine);
  const gone: Message = await chat.delete(edited);
  console.log(gone.deleted === true ? 'message deleted' : gone.body);

  // End-to-end encrypted rooms (issue 18).
  await client.encrypt('team:7');
  const secret: Room = await client.join('team:7');
  const sealing: string | null = secret.keyId;
  const rotated: string = await secret.rotateKey({ exclude: ['u-2'] });
  const invite: string = await secret.inviteKey();
  const invitedRoom: string = await client.acceptInvite(invite);
  const sealedMsg: Message = await secret.send('only members read this');
  const why: 'missing_key' | 'tampered' | undefined = sealedMsg.undecryptable;
  console.log(secret.encrypted, sealing, rotated, invitedRoom, sealedMsg.encrypted === true, why);

  await room.leave();
  await client.close();

  // @ts-expect-error unknown room event
  room.on('mesage', () => {});
  // @ts-expect-error a message body is a string
  await room.send(42);
  // @ts-expect-error storage is 'indexeddb' or 'memory'
  await connect('ws://localhost:8080/ws', { storage: 'localStorage' });
  // @ts-expect-error the client event payload is typed
  client.on('state', (e: { state: number }) => e);
  // @ts-expect-error an edit needs the new body
  await chat.edit(mineMsg);
  // @ts-expect-error the read cursor is a seq
  chat.markRead('41');
  // @ts-expect-error undecryptable is a closed set
  const bad: Message['undecryptable'] = 'garbled';
  console.log(bad);
  // @ts-expect-error keyId is read-only
  secret.keyId = 'k1';
  // @ts-expect-error roles are a closed set
  await room.grant('u-1', 'admin');
}
