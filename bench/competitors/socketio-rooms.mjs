// A stock Socket.IO 4.8 rooms server: what a developer would write for "chat rooms" in an hour.
// Started by the bench (NodeServer.java): node --expose-gc socketio-rooms.mjs PORT. Loopback only.
//   join(room)            -> socket.join(room), then emit joined(room)
//   send({room,cid,body}) -> broadcast msg({room,seq,cid,from,body,ts}) to the room's OTHER members
//                            (seq: a per-room counter, so the bench counts lost/duplicated the same
//                            way as for Switchboard; no storage, no acks)
//   echo(id)              -> emit echoed(id): the ping->pong baseline
// GET /mem runs a full GC (--expose-gc) and answers process.memoryUsage() plus the socket count:
// the counterpart of `jcmd PID GC.run` + heap used for the relay.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node --expose-gc socketio-rooms.mjs PORT');
  process.exit(2);
}

const http = createServer((req, res) => {
  if (req.url === '/mem') {
    if (global.gc) { global.gc(); global.gc(); }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ...process.memoryUsage(), connections: io.engine.clientsCount, gc: !!global.gc }));
  } else {
    res.statusCode = 404;
    res.end();
  }
});
// Stock options: polling + websocket, pingInterval 25 s, no compression. SOCKETIO_PERMESSAGE_DEFLATE=1
// turns on what `perMessageDeflate: true` gives (engine.io's defaults: only frames of 1 KB and more
// are compressed, but every connection that negotiated it holds a zlib context), for the line
// "Socket.IO with its compression on" next to the relay's.
const io = new Server(http, { perMessageDeflate: process.env.SOCKETIO_PERMESSAGE_DEFLATE === '1' });

const seqs = new Map();
io.on('connection', (socket) => {
  socket.on('join', (room) => {
    if (typeof room !== 'string') return;
    socket.join(room);
    socket.emit('joined', room);
  });
  socket.on('send', (m) => {
    if (!m || typeof m.room !== 'string' || !socket.rooms.has(m.room)) return;
    const seq = (seqs.get(m.room) ?? 0) + 1;
    seqs.set(m.room, seq);
    socket.to(m.room).emit('msg', { room: m.room, seq, cid: m.cid, from: socket.id, body: m.body, ts: Date.now() });
  });
  socket.on('echo', (id) => socket.emit('echoed', id));
});

http.listen(port, '127.0.0.1', () => console.log(`socket.io rooms server on 127.0.0.1:${port}`));
const stop = () => { io.close(); http.close(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
