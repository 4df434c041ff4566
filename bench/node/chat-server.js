// The Node reference of bench/run: the Socket.IO guide's private-messaging
// chat, final server (examples/private-messaging, part III stores kept in
// memory instead of Redis, one process: no cluster, no adapter), with
// socket.io 4.x from npm, polling only.  APP.md section 1 is the wire
// behaviour it and sio-fcgi's chat share.
//
//   node bench/node/chat-server.js [--port 8090] [--ping-interval 25000]
//       [--ping-timeout 20000] [--connect-timeout 45000]
//
// Prints "serving http://127.0.0.1:PORT/" when it listens.  Not part of
// the test suite.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

const opt = { port: 8090, 'ping-interval': 25000, 'ping-timeout': 20000,
  'connect-timeout': 45000 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opt) || process.argv[i + 1] === undefined) {
    console.error(`usage: chat-server.js [--port P] [--ping-interval MS] ` +
      `[--ping-timeout MS] [--connect-timeout MS]`);
    process.exit(2);
  }
  opt[k] = Number(process.argv[i + 1]);
}

// The guide's stores (sessionStore.js, messageStore.js), in memory.
class InMemorySessionStore {
  constructor() { this.sessions = new Map(); }
  findSession(id) { return this.sessions.get(id); }
  saveSession(id, session) { this.sessions.set(id, session); }
  findAllSessions() { return [...this.sessions.values()]; }
}

class InMemoryMessageStore {
  constructor() { this.messages = []; }
  saveMessage(message) { this.messages.push(message); }
  findMessagesForUser(userID) {
    return this.messages.filter(({ from, to }) => from === userID || to === userID);
  }
}

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ['polling'],
  serveClient: false,
  pingInterval: opt['ping-interval'],
  pingTimeout: opt['ping-timeout'],
  connectTimeout: opt['connect-timeout'],
});

const randomId = () => crypto.randomBytes(8).toString('hex');
const sessionStore = new InMemorySessionStore();
const messageStore = new InMemoryMessageStore();

io.use((socket, next) => {
  const sessionID = socket.handshake.auth.sessionID;
  if (sessionID) {
    const session = sessionStore.findSession(sessionID);
    if (session) {
      socket.sessionID = sessionID;
      socket.userID = session.userID;
      socket.username = session.username;
      return next();
    }
  }
  const username = socket.handshake.auth.username;
  if (!username) {
    return next(new Error('invalid username'));
  }
  socket.sessionID = randomId();
  socket.userID = randomId();
  socket.username = username;
  next();
});

io.on('connection', (socket) => {
  // persist session
  sessionStore.saveSession(socket.sessionID, {
    userID: socket.userID,
    username: socket.username,
    connected: true,
  });

  // emit session details
  socket.emit('session', {
    sessionID: socket.sessionID,
    userID: socket.userID,
  });

  // join the "userID" room
  socket.join(socket.userID);

  // fetch existing users
  const users = [];
  const messagesPerUser = new Map();
  messageStore.findMessagesForUser(socket.userID).forEach((message) => {
    const { from, to } = message;
    const otherUser = socket.userID === from ? to : from;
    if (messagesPerUser.has(otherUser)) {
      messagesPerUser.get(otherUser).push(message);
    } else {
      messagesPerUser.set(otherUser, [message]);
    }
  });
  sessionStore.findAllSessions().forEach((session) => {
    users.push({
      userID: session.userID,
      username: session.username,
      connected: session.connected,
      messages: messagesPerUser.get(session.userID) || [],
    });
  });
  socket.emit('users', users);

  // notify existing users
  socket.broadcast.emit('user connected', {
    userID: socket.userID,
    username: socket.username,
    connected: true,
    messages: [],
  });

  // forward the private message to the right recipient (and to other tabs
  // of the sender)
  socket.on('private message', ({ content, to }) => {
    const message = { content, from: socket.userID, to };
    socket.to(to).to(socket.userID).emit('private message', message);
    messageStore.saveMessage(message);
  });

  // notify users upon disconnection
  socket.on('disconnect', async () => {
    const matchingSockets = await io.in(socket.userID).allSockets();
    const isDisconnected = matchingSockets.size === 0;
    if (isDisconnected) {
      // notify other users
      socket.broadcast.emit('user disconnected', socket.userID);
      // update the connection status of the session
      sessionStore.saveSession(socket.sessionID, {
        userID: socket.userID,
        username: socket.username,
        connected: false,
      });
    }
  });
});

httpServer.listen(opt.port, '127.0.0.1', () => {
  console.log(`serving http://127.0.0.1:${opt.port}/`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () => process.exit(0));
