// The demo chat: a room list with unread counts, a virtualized message list with names, read
// receipts (KakaoTalk's yellow number), edits, deletions and reactions, a composer with typing
// indicators and a per-peer transport indicator, on top of the SDK the relay serves. Message text
// and names only ever go into the DOM as text (textContent), never as HTML. Encrypted rooms (issue
// 18): a lock, "Encrypt this room" for owners, and a placeholder for a message that cannot be opened.
import { connect } from '/sdk/switchboard.js';
import { VirtualList } from '/virtual-list.js';

const params = new URLSearchParams(location.search);
const ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const ROOMS_KEY = 'switchboard-demo:rooms';
const NAME_KEY = 'switchboard-demo:name';
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
// The SDK keeps its guest token per server URL, so the user id is the same after a reload: the demo
// remembers it to show its own cached messages as its own before the server says who it is.
const USER_KEY = `switchboard-demo:user:${serverUrl()}`;
const $ = id => document.getElementById(id);

const ui = {
  banner: $('banner'), conn: $('conn'), me: $('me'), rooms: $('rooms'), title: $('room-title'),
  peers: $('peers'), viewport: $('viewport'), canvas: $('canvas'), composer: $('composer'), text: $('text'),
  joinForm: $('join-form'), joinRoom: $('join-room'), leave: $('leave'),
  nameForm: $('name-form'), name: $('name'), typing: $('typing'), notice: $('notice'),
  lock: $('lock'), encrypt: $('encrypt'),
};

const state = { client: null, rooms: new Map(), current: null, renderQueued: false, user: localStorage.getItem(USER_KEY) };

function options() {
  // The page opens from its cache and keeps the composer working while the server is unreachable.
  const opts = { waitForServer: false };
  const name = localStorage.getItem(NAME_KEY);
  if (name) opts.name = name;
  // ice=loopback keeps WebRTC on 127.0.0.1 (tests and local demos); p2p=off stays on the relay.
  if (params.get('ice') === 'loopback') opts.iceCandidateFilter = c => !c.candidate || / 127\.0\.0\.1 /.test(c.candidate);
  if (params.get('ice') === 'none') opts.iceCandidateFilter = () => false;
  if (params.get('p2p') === 'off') opts.p2p = false;
  if (params.has('db')) opts.dbName = params.get('db');
  const positive = name => (Number(params.get(name)) > 0 ? Number(params.get(name)) : undefined);
  if (positive('sync')) opts.syncIntervalMs = positive('sync');
  if (positive('seqDelay')) opts.p2pSeqDelayMs = positive('seqDelay');
  if (positive('p2pTimeout')) opts.p2pConnectTimeoutMs = positive('p2pTimeout');
  return opts;
}

function serverUrl() {
  const explicit = params.get('server');
  if (explicit) return explicit;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** The rooms joined last time; null on a first visit (an empty list: the user left them all). */
function savedRooms() {
  try {
    const rooms = JSON.parse(localStorage.getItem(ROOMS_KEY));
    return Array.isArray(rooms) ? rooms.filter(r => typeof r === 'string' && ROOM_NAME.test(r)) : null;
  } catch {
    return null;
  }
}

function saveRooms() {
  // At once (a few bytes): a reload right after a leave must not bring the room back.
  localStorage.setItem(ROOMS_KEY, JSON.stringify([...state.rooms.keys()]));
}

/** The room the URL asks for: `#room`, else `?room=`; null when none or not a room name. */
function roomFromUrl() {
  const hash = decodeURIComponent(location.hash.slice(1));
  if (ROOM_NAME.test(hash)) return hash;
  const query = params.get('room');
  return query && ROOM_NAME.test(query) ? query : null;
}

// --- connection state -------------------------------------------------------------------------

const STATE_TEXT = {
  connecting: 'Connecting…',
  reconnecting: 'Connection lost — reconnecting. Messages you send are kept and go out when it is back.',
  offline: 'You are offline. Messages you send are kept and go out when you are back online.',
  suspended: 'The server keeps failing; retrying later.',
  closed: 'Disconnected.',
};

/** The server told who we are (welcome): remember it and redraw rows drawn with a guess. */
function identified(user) {
  if (!user) return;
  ui.me.textContent = `you are ${state.client.name ? `${state.client.name} (${user})` : user}`;
  if (user === state.user) return;
  state.user = user;
  localStorage.setItem(USER_KEY, user);
  list.refreshVisible();
}

function showState(s, retryInMs) {
  ui.conn.dataset.state = s;
  ui.conn.textContent = s;
  const text = STATE_TEXT[s];
  ui.banner.hidden = s === 'open' || !text;
  if (text) {
    ui.banner.textContent = retryInMs ? `${text} (next try in ${Math.ceil(retryInMs / 1000)} s)` : text;
    ui.banner.dataset.kind = s === 'connecting' ? 'info' : 'error';
  }
}

// --- rooms --------------------------------------------------------------------------------------

function roomItem(name) {
  const li = document.createElement('li');
  li.dataset.room = name;
  const label = document.createElement('span');
  label.textContent = name;
  const unread = document.createElement('span');
  unread.className = 'unread';
  li.append(label, unread);
  li.addEventListener('click', () => show(name));
  ui.rooms.appendChild(li);
  return li;
}

/**
 * The room's badge: messages after this user's read cursor (all its devices) once the server gave
 * the cursor, else `count` (messages since the room went to the background).
 */
function setUnread(name, count) {
  const entry = state.rooms.get(name);
  if (!entry) return;
  const room = entry.room;
  const n = room?.reads?.has(state.client.user) ? room.unreadCount : count;
  entry.item.querySelector('.unread').textContent = n > 0 ? String(n) : '';
}

/**
 * Joins a room; resolves as soon as the room is usable — from the cache, before the server
 * answers, when the SDK has it cached.
 */
async function open(name, mode) {
  if (state.rooms.has(name)) return state.rooms.get(name).ready;
  const entry = { name, room: null, item: roomItem(name) };
  state.rooms.set(name, entry);
  const client = state.client;
  const fromCache = new Promise(resolve => {
    const onRoom = room => {
      if (room.name !== name) return;
      client.off('room', onRoom);
      resolve(room);
    };
    client.on('room', onRoom);
  });
  const joined = client.join(name, { mode });
  // The room shows from the cache before the server answers; `joined` brings the peers (no event
  // says so: a joined's peers are taken silently), so they are drawn again once it is in.
  joined.then(() => name === state.current && renderPeers(), err => console.warn(`join ${name}:`, err.code, err.message));
  entry.ready = Promise.race([fromCache, joined]).then(room => {
    entry.room = room;
    room.on('message', () => {
      renderLock(name); // the SDK has no event for a room switched to encrypted while in it: its sealed messages show it
      if (name === state.current) queueRender();
      else setUnread(name, room.unread);
    });
    room.on('window', () => {
      if (name !== state.current) return;
      queueRender();
      renderPeers(); // a resumed room's joined (peers) comes with its catch-up
      renderLock(name);
    });
    room.on('update', m => name === state.current ? list.refresh(m) : undefined);
    room.on('unread', u => setUnread(name, u.count));
    room.on('peer', () => name === state.current ? renderPeers() : undefined);
    room.on('presence', () => name === state.current ? renderPeers() : undefined);
    // Someone read: every "not read by" number on screen may have fallen.
    room.on('reads', () => {
      setUnread(name, room.unread);
      if (name === state.current) list.refreshVisible();
    });
    room.on('typing', () => name === state.current ? renderTyping() : undefined);
    // Switched on (by an owner here or elsewhere), a new key, or this user's role changed.
    for (const event of ['encrypted', 'key', 'role']) room.on(event, () => renderLock(name));
    joined.then(() => renderLock(name), () => {});
    renderLock(name);
    saveRooms();
    return entry;
  });
  return entry.ready;
}

async function show(name) {
  if (state.current === name) return;
  const fresh = !state.rooms.has(name);
  if (fresh) {
    performance.mark(`open:${name}`);
    state.measuring = name;
  }
  const previous = state.rooms.get(state.current);
  previous?.room?.typing?.(false);
  endEdit();
  state.current = name;
  for (const li of ui.rooms.children) li.setAttribute('aria-current', String(li.dataset.room === name));
  ui.title.textContent = name;
  ui.leave.hidden = false;
  // The hash names the room (a reload reopens it; editing it switches); the query keeps the options.
  const query = new URLSearchParams(params);
  query.delete('room');
  history.replaceState(null, '', `${query.size ? `?${query}` : location.pathname}#${encodeURIComponent(name)}`);
  const entry = await open(name, 'active');
  if (state.current !== name) return;
  setUnread(name, 0);
  list.stickToBottom = true;
  render();
  renderPeers();
  renderTyping();
  renderLock(name);
  // Mode changes are requests to the server: they must not hold the screen back.
  previous?.room?.setMode('background').catch(() => {});
  if (!fresh) entry.room.setMode('active').catch(() => {});
}

/** Takes a room off the list (left, or the server ended the membership) and shows another one. */
function forget(name) {
  const entry = state.rooms.get(name);
  if (!entry) return;
  state.rooms.delete(name);
  entry.item.remove();
  saveRooms();
  if (state.current !== name) return;
  state.current = null;
  const next = state.rooms.keys().next().value;
  if (next) show(next);
  else showNoRoom();
}

function showNoRoom() {
  ui.title.textContent = 'Join a room';
  ui.leave.hidden = true;
  ui.lock.hidden = true;
  ui.encrypt.hidden = true;
  ui.peers.replaceChildren();
  ui.typing.textContent = '';
  list.setItems([]);
  history.replaceState(null, '', location.href.replace(/#.*$/, ''));
}

async function leaveCurrent() {
  const entry = state.rooms.get(state.current);
  if (!entry) return;
  try {
    await (entry.room ?? (await entry.ready).room).leave();
  } catch (err) {
    // Offline or refused: the room stays joined and listed (nothing would leave it on the server).
    notice(`leave failed: ${err.message ?? err}`);
    return;
  }
  forget(entry.name);
}

/**
 * The lock on an encrypted room (in the list and the header) and, for the shown room's owners,
 * "Encrypt this room" while it is not (encryption is only ever switched on), or "Create the room
 * key" while it is but nobody here holds a key.
 */
function renderLock(name) {
  const entry = state.rooms.get(name);
  const room = entry?.room;
  const encrypted = room?.encrypted === true;
  entry?.item.setAttribute('data-encrypted', String(encrypted));
  if (name !== state.current) return;
  ui.lock.hidden = !encrypted;
  ui.lock.textContent = encrypted && room.keyId == null ? '🔒 encrypted (waiting for the key)' : '🔒 encrypted';
  // A room the app's backend created encrypted has no key until an owner makes the first one.
  const keyless = encrypted && room.keyId == null;
  ui.encrypt.textContent = keyless ? 'Create the room key' : 'Encrypt this room';
  ui.encrypt.hidden = (encrypted && !keyless) || room?.role !== 'owner' || typeof state.client.encrypt !== 'function';
}

async function encryptCurrent() {
  const name = state.current;
  if (!name) return;
  ui.encrypt.disabled = true;
  try {
    await state.client.encrypt(name);
  } catch (err) {
    notice(`encrypt failed: ${err.message ?? err}`);
  } finally {
    ui.encrypt.disabled = false;
    renderLock(name);
  }
}

// --- messages -----------------------------------------------------------------------------------

const FIRST_PAGE = 50;
const STATUS_MARK = { pending: '🕓', sent: '✓', stored: '✓✓', failed: '⚠' };
const PATH_LABEL = { p2p: 'P2P', turn: 'TURN', relay: 'relay' };
// What a message that cannot be opened shows instead of its text (never the sealed bytes).
const UNDECRYPTABLE = {
  missing_key: '🔒 encrypted message: no key for it on this device yet',
  tampered: '⚠ encrypted message could not be verified (altered or damaged)',
};
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** The shown room's Room, or null. */
function currentRoom() {
  return state.rooms.get(state.current)?.room ?? null;
}

/** A user's display name in the room: the message's own, the room's, else the user id. */
function displayName(room, user, name) {
  return name ?? room?.nameOf(user) ?? user;
}

/** The message each row on screen shows (rows are pooled: the menu and chips look it up here). */
const rowMessages = new WeakMap();

function createRow() {
  // Three nodes a row (row, bubble, text), as the virtual list's DOM budget wants: meta, the yellow
  // number and '(edited)' are pseudo-elements from data attributes; reactions get a node only when
  // there are some; the bubble itself opens the message menu.
  const row = document.createElement('div');
  row.className = 'row';
  row.appendChild(document.createElement('div')).className = 'bubble'; // first child: the body
  return row;
}

/** Own message: the SDK's flag, or sent by the user we were last time (cache-first open, before welcome). */
function isMine(m) {
  return m.mine === true || (m.from != null && m.from === (state.client?.user ?? state.user));
}

function fillRow(row, m) {
  const room = currentRoom();
  const mine = isMine(m);
  rowMessages.set(row, m);
  row.className = `row${mine ? ' mine' : ''}${m.status === 'pending' ? ' pending' : ''}${m.deleted ? ' deleted' : ''}${m.undecryptable ? ' undecryptable' : ''}`;
  row.dataset.cid = m.cid;
  row.dataset.path = m.path ?? '';
  row.dataset.seq = m.seq ?? '';
  const when = m.ts ? timeFormat.format(m.ts) : '';
  const edited = m.edited && !m.deleted ? '(edited)' : null;
  const parts = [mine ? 'me' : displayName(room, m.from, m.name), when, edited, PATH_LABEL[m.path], mine ? STATUS_MARK[m.status] : null];
  row.dataset.meta = parts.filter(Boolean).join(' · ');
  row.dataset.undecryptable = m.undecryptable ?? '';
  row.firstChild.textContent = m.deleted ? 'message deleted'
    : m.undecryptable ? UNDECRYPTABLE[m.undecryptable] ?? UNDECRYPTABLE.tampered : m.body; // text, never HTML
  // KakaoTalk's yellow number: how many others have not read it yet; nothing at 0.
  const notRead = m.seq != null ? room?.notReadBy?.(m) ?? 0 : 0;
  // Only then an ::after at all: the renderer counts pseudo-elements as nodes.
  if (notRead > 0) row.dataset.notRead = String(notRead);
  else delete row.dataset.notRead;
  // The menu acts on stored messages, through an SDK that has edit/delete/react.
  row.dataset.menu = String(!m.deleted && !m.undecryptable && m.seq != null && typeof room?.react === 'function');
  const reactions = m.reactions ?? [];
  let box = row.querySelector('.reactions');
  if (reactions.length === 0) {
    box?.remove();
    return;
  }
  box ??= row.appendChild(document.createElement('div'));
  box.className = 'reactions';
  box.replaceChildren(...reactions.map(r => {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.dataset.emoji = r.emoji;
    chip.setAttribute('aria-pressed', String(r.mine === true));
    chip.textContent = `${r.emoji} ${r.count}`;
    chip.title = r.users.map(u => displayName(room, u)).join(', ');
    return chip;
  }));
}

const list = new VirtualList(ui.viewport, ui.canvas, {
  keyOf: m => m.cid,
  create: createRow,
  fill: fillRow,
  onNearTop: () => page('older'),
  onNearBottom: () => page('newer'),
});

let paging = false;
async function page(direction) {
  const entry = state.rooms.get(state.current);
  if (!entry?.room || paging) return;
  const room = entry.room;
  const more = direction === 'older' ? room.window.hasOlder : room.window.hasNewer;
  if (!more) return;
  paging = true;
  try {
    await (direction === 'older' ? room.loadOlder() : room.loadNewer());
    render();
  } finally {
    paging = false;
  }
}

function queueRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    render();
  });
}

function render() {
  const entry = state.rooms.get(state.current);
  const items = entry?.room ? [...entry.room.messages] : [];
  list.setItems(items);
  markRead();
  if (entry && state.measuring === entry.name && (items.length >= FIRST_PAGE || (items.length > 0 && !entry.room.window.hasOlder))) {
    // Time to the first full page on screen: after the next frame is painted.
    const name = entry.name;
    state.measuring = null;
    requestAnimationFrame(() => setTimeout(() => performance.measure(`first-page:${name}`, `open:${name}`)));
  }
}

function renderPeers() {
  const entry = state.rooms.get(state.current);
  const peers = entry?.room ? entry.room.peers() : [];
  const items = peers.map(p => {
    const li = document.createElement('li');
    const path = p.path ?? p.mode ?? 'relay';
    li.dataset.peer = p.peer;
    li.dataset.path = path;
    const how = path === 'p2p' ? 'direct P2P' : path === 'turn' ? 'TURN' : path === 'connecting' ? 'connecting…' : 'relay';
    const rtt = typeof p.rttMs === 'number' ? ` ${p.rttMs.toFixed(1)} ms` : '';
    li.textContent = `${displayName(entry.room, p.user ?? p.peer, p.name)}: ${how}${rtt}`;
    return li;
  });
  ui.peers.replaceChildren(...items);
}

/**
 * The shown room is read up to its newest row while the page is visible and scrolled to the
 * bottom (the SDK sends at most one `read` per 500 ms per room; we skip seqs already marked).
 */
function markRead() {
  const entry = state.rooms.get(state.current);
  const room = entry?.room;
  if (!room?.markRead || document.visibilityState !== 'visible' || !list.stickToBottom) return;
  const newest = room.messages.findLast(m => m.seq != null)?.seq ?? 0;
  if (newest <= (entry.marked ?? 0)) return;
  entry.marked = newest;
  room.markRead(newest);
}

ui.viewport.addEventListener('scroll', () => markRead(), { passive: true });
document.addEventListener('visibilitychange', () => markRead());

function renderTyping() {
  const room = currentRoom();
  const users = room?.typingUsers ?? [];
  const names = [...new Set(users.map(u => displayName(room, u.user, u.name)))];
  ui.typing.textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
        : `${names.length} people are typing…`;
}

// --- composer -----------------------------------------------------------------------------------

let noticeTimer = null;
/** A short-lived line under the messages: why an edit, deletion or reaction was refused. */
function notice(text) {
  ui.notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { ui.notice.textContent = ''; }, 5000);
}

function refused(what) {
  return err => notice(`${what} failed: ${err.message ?? err}`);
}

/** Small elements made when needed and dropped after: the page's DOM stays within its budget. */
function element(tag, props, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

function startEdit(m) {
  endEdit();
  const cancel = element('button', { type: 'button', textContent: 'Cancel' });
  cancel.addEventListener('click', () => endEdit());
  state.editing = { m, bar: element('div', { id: 'editing', className: 'editing' }, 'Editing a message ', cancel) };
  ui.composer.before(state.editing.bar);
  ui.text.value = m.body;
  ui.text.focus();
}

function endEdit() {
  if (!state.editing) return;
  state.editing.bar.remove();
  state.editing = null;
  ui.text.value = '';
}

async function sendCurrent() {
  const body = ui.text.value;
  const entry = state.rooms.get(state.current);
  if (!entry?.room || body.trim() === '') return;
  if (state.editing) {
    const { m } = state.editing;
    endEdit();
    entry.room.edit(m, body).catch(refused('edit'));
    return;
  }
  ui.text.value = '';
  list.stickToBottom = true;
  await entry.room.send(body);
  render();
}

// --- message menu -------------------------------------------------------------------------------

function openMenu(m, anchor) {
  closeMenu();
  const room = currentRoom();
  const own = isMine(m);
  const item = (role, text, data) => {
    const b = element('button', { type: 'button', textContent: text });
    b.setAttribute('role', role);
    Object.assign(b.dataset, data);
    return b;
  };
  const emoji = REACTIONS.map(e => {
    const b = item('menuitemcheckbox', e, { emoji: e });
    b.setAttribute('aria-label', `react ${e}`);
    b.setAttribute('aria-checked', String((m.reactions ?? []).some(r => r.emoji === e && r.mine)));
    return b;
  });
  const menu = element('div', { id: 'menu', className: 'menu' }, element('div', { className: 'emoji' }, ...emoji));
  menu.setAttribute('role', 'menu');
  menu.setAttribute('aria-label', 'message menu');
  // Edit own; delete own, or any as the room's owner.
  if (own) menu.append(item('menuitem', 'Edit', { act: 'edit' }));
  if (own || room?.role === 'owner') menu.append(item('menuitem', 'Delete', { act: 'delete' }));
  menu.addEventListener('click', e => {
    const button = e.target.closest('button');
    if (!button) return;
    closeMenu();
    if (button.dataset.emoji) toggleReaction(m, button.dataset.emoji);
    else if (button.dataset.act === 'edit') startEdit(m);
    else if (button.dataset.act === 'delete') currentRoom()?.delete(m).catch(refused('delete'));
  });
  document.body.append(menu);
  state.menu = menu;
  const box = anchor.getBoundingClientRect();
  menu.style.left = `${Math.max(4, Math.min(box.left, innerWidth - menu.offsetWidth - 4))}px`;
  menu.style.top = `${Math.max(4, box.top - menu.offsetHeight - 4)}px`;
  menu.querySelector('button').focus();
}

function closeMenu() {
  state.menu?.remove();
  state.menu = null;
}

function toggleReaction(m, emoji) {
  const on = !(m.reactions ?? []).some(r => r.emoji === emoji && r.mine);
  currentRoom()?.react(m, emoji, on).catch(refused('reaction'));
}

/** A click (or right click) on a bubble opens its menu; on a chip, toggles own reaction. */
function onRowClick(e) {
  const row = e.target.closest('.row');
  const m = row && rowMessages.get(row);
  if (!m) return;
  const chip = e.target.closest('.chip');
  if (chip) {
    toggleReaction(m, chip.dataset.emoji);
  } else if (e.target.closest('.bubble') && row.dataset.menu === 'true') {
    e.preventDefault();
    openMenu(m, row.firstChild);
  }
}
ui.canvas.addEventListener('click', onRowClick);
ui.canvas.addEventListener('contextmenu', onRowClick);

document.addEventListener('pointerdown', e => {
  if (state.menu && !state.menu.contains(e.target) && !e.target.closest('.bubble')) closeMenu();
});
document.addEventListener('keydown', e => {
  if (e.key !== 'Escape') return;
  closeMenu();
  endEdit();
});

ui.text.addEventListener('input', () => {
  // Each keystroke: the SDK sends on:true at most every 3 s; an emptied field says stopped.
  if (!state.editing) currentRoom()?.typing?.(ui.text.value !== '');
});
ui.nameForm.addEventListener('submit', e => {
  e.preventDefault();
  const name = ui.name.value.trim();
  // The relay's rules for hello.name (a refused hello would keep the page from connecting).
  if (name === (localStorage.getItem(NAME_KEY) ?? '') || [...name].length > 64 || /\p{Cc}/u.test(name)) return;
  if (name) localStorage.setItem(NAME_KEY, name);
  else localStorage.removeItem(NAME_KEY);
  // The name goes out in `hello`: a new connection carries it (the page reopens from its cache).
  location.reload();
});
ui.composer.addEventListener('submit', e => {
  e.preventDefault();
  sendCurrent();
});
ui.text.addEventListener('keydown', e => {
  // Enter while a Hangul syllable is still being composed belongs to the IME, not to us.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendCurrent();
  }
});
ui.leave.addEventListener('click', () => leaveCurrent());
ui.encrypt.addEventListener('click', () => encryptCurrent());
addEventListener('hashchange', () => {
  const name = roomFromUrl();
  if (name) show(name);
});
ui.joinForm.addEventListener('submit', e => {
  e.preventDefault();
  const name = ui.joinRoom.value.trim();
  if (!ROOM_NAME.test(name)) return;
  ui.joinRoom.value = '';
  show(name);
});

// --- start --------------------------------------------------------------------------------------

async function main() {
  showState('connecting');
  ui.name.value = localStorage.getItem(NAME_KEY) ?? '';
  const client = await connect(serverUrl(), options());
  state.client = client;
  globalThis.switchboardDemo = { client, rooms: state.rooms, list, show };
  showState(client.state);
  client.on('state', ({ state: s, retryInMs }) => {
    showState(s, retryInMs);
    identified(client.user);
  });
  client.on('error', err => console.warn('switchboard:', err.code, err.message));
  client.on('removed', ({ room }) => forget(room));
  identified(client.user);
  const first = roomFromUrl();
  const saved = savedRooms();
  // `lobby` only greets a first visit that names no room: a user who left every room gets none back.
  const names = [...new Set(first ? [first, ...(saved ?? [])] : saved ?? ['lobby'])];
  if (names.length === 0) showNoRoom();
  else await show(names[0]);
  await Promise.all(names.slice(1).map(name => open(name, 'background')));
  document.body.dataset.ready = 'true';
}

main().catch(err => {
  showState('closed');
  ui.banner.textContent = `Could not start: ${err.message}`;
  ui.banner.hidden = false;
});
