/**
 * Baseline (b): Socket.IO 4.x, websocket transport only, one room per channel. Subscribers join
 * with a `join` event (acknowledged); each publish is one `io.to(room).emit('message', …)` with
 * Herald's envelope as an object. Same HTTP endpoints as Herald.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { baselineListener, ENV_ID, portArg } from './baseline-http.js';

let io: Server | undefined;

const server = createServer(
  { keepAliveTimeout: 65_000 },
  baselineListener((p) => {
    if (io === undefined) return 0;
    io.to(p.channel).emit('message', {
      kind: 'data',
      data: JSON.parse(p.dataJson) as unknown,
      created_at: p.createdAt,
      channel: p.channel,
      env_id: ENV_ID,
      topic: p.topic,
      epoch: p.epoch,
      seq: p.seq,
    });
    return io.sockets.adapter.rooms.get(p.channel)?.size ?? 0;
  }),
);

io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  cors: { origin: '*' },
});
io.on('connection', (socket) => {
  socket.on('join', (room: unknown, ack?: (ok: boolean) => void) => {
    if (typeof room === 'string') socket.join(room);
    ack?.(typeof room === 'string');
  });
});

server.listen(portArg(), '127.0.0.1', () => process.stdout.write('Socket.IO baseline listening\n'));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
