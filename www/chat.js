// The private-messaging chat of the Socket.IO guide, without a framework.
//
// Wire behaviour (APP.md 1): connect with auth {username} or {sessionID};
// "session" {sessionID, userID}, then "users" [{userID, username,
// connected, messages}], "user connected", "user disconnected" userID,
// "private message" {content, from, to}.  Everything a peer sends is
// rendered with textContent, never as HTML.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const el = {
    fatal: $('fatal'),
    login: $('login'), loginForm: $('login-form'), username: $('username'),
    loginButton: $('login-button'), loginError: $('login-error'),
    chat: $('chat'), users: $('users'), usersLoading: $('users-loading'),
    empty: $('empty'), panel: $('panel'),
    peerAvatar: $('peer-avatar'), peerName: $('peer-name'), peerStatus: $('peer-status'),
    messages: $('messages'), noMessages: $('no-messages'),
    composer: $('composer'), input: $('input'), inputLabel: $('input-label'), send: $('send'),
    connection: $('connection'),
  };

  if (typeof io !== 'function') {
    el.fatal.textContent = 'The socket.io client (vendor/socket.io.min.js) is missing: run scripts/setup.';
    el.fatal.hidden = false;
    return;
  }

  // One socket for the page; polling only (sio-fcgi speaks nothing else).
  // The URL is the page's own host; the path is socket.io/ beside the
  // page: /socket.io/ for a page at the site's root, /chat/socket.io/ for
  // one in /chat/ (sio-fcgi --path /chat/socket.io).
  const socket = io({
    autoConnect: false,
    transports: ['polling'],
    path: new URL('socket.io/', window.location.href).pathname,
  });

  const state = {
    me: null,          // my userID
    users: [],         // {userID, username, connected, messages, self, unread}
    selected: null,    // the userID of the open conversation
    triedUsername: false,
  };
  const rows = new Map(); // userID -> the <li> of that user
  const TITLE = document.title;

  // ---- Storage -----------------------------------------------------------
  // localStorage: the sessionID (all tabs are one user) and, per user, how
  // far each conversation was read.  sessionStorage: this tab's open
  // conversation, so that a reload keeps it open.

  const store = {
    get(area, k) { try { return window[area].getItem(k); } catch { return null; } },
    set(area, k, v) { try { window[area].setItem(k, v); } catch { /* private mode, full */ } },
    del(area, k) { try { window[area].removeItem(k); } catch { /* ignore */ } },
  };

  function readMarks() {
    try { return JSON.parse(store.get('localStorage', 'readMarks.' + state.me)) || {}; } catch { return {}; }
  }

  // Remember that the conversation with user is read to its end: its
  // length and its last message (the history is capped on the server, so
  // the length alone cannot place the mark).
  function markRead(user) {
    user.unread = 0;
    if (!state.me) return;
    const marks = readMarks();
    const last = user.messages[user.messages.length - 1];
    marks[user.userID] = { n: user.messages.length, from: last ? last.from : null, content: last ? last.content : null };
    store.set('localStorage', 'readMarks.' + state.me, JSON.stringify(marks));
  }

  // Messages from the other user after the read mark: those arrived while
  // this user was away.
  function countUnread(user, marks) {
    const msgs = user.messages;
    const mark = marks[user.userID];
    let start = 0;
    if (mark && mark.n > 0) {
      const isMark = (m) => m && m.from === mark.from && m.content === mark.content;
      if (mark.n <= msgs.length && isMark(msgs[mark.n - 1])) {
        start = mark.n;
      } else {
        for (let i = msgs.length - 1; i >= 0; i--) {
          if (isMark(msgs[i])) { start = i + 1; break; }
        }
      }
    }
    let n = 0;
    for (let i = start; i < msgs.length; i++) if (msgs[i].from !== state.me) n++;
    return n;
  }

  // ---- Helpers -----------------------------------------------------------

  function byUsername(a, b) {
    if (a.self !== b.self) return a.self ? -1 : 1;
    const c = a.username.localeCompare(b.username, undefined, { sensitivity: 'base' });
    if (c !== 0) return c;
    if (a.username !== b.username) return a.username < b.username ? -1 : 1;
    return a.userID < b.userID ? -1 : a.userID > b.userID ? 1 : 0;
  }

  function findUser(userID) {
    return state.users.find((u) => u.userID === userID) || null;
  }

  // A stable colour per username, for the avatar (white text on each).
  const AVATAR_COLOURS = ['#7c3aed', '#1f8a70', '#0369a1', '#be185d', '#4d7c0f',
    '#9333ea', '#a16207', '#c2410c', '#b91c1c', '#0f766e'];
  function avatarColour(name) {
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return AVATAR_COLOURS[h % AVATAR_COLOURS.length];
  }

  function initial(name) {
    const ch = Array.from(name.trim())[0] || '?';
    return ch.toUpperCase();
  }

  function setAvatar(node, user) {
    node.textContent = initial(user.username);
    node.style.setProperty('--avatar', avatarColour(user.username));
  }

  function describe(user) {
    let s = user.username + (user.self ? ' (yourself)' : '') + ', ' + (user.connected ? 'online' : 'offline');
    if (user.unread > 0) s += ', ' + user.unread + (user.unread === 1 ? ' unread message' : ' unread messages');
    return s;
  }

  function span(cls, text) {
    const s = document.createElement('span');
    if (cls) s.className = cls;
    if (text != null) s.textContent = text;
    return s;
  }

  // ---- Screens -----------------------------------------------------------

  function showLogin(message) {
    el.chat.hidden = true;
    el.login.hidden = false;
    el.loginError.textContent = message || '';
    updateLoginButton();
    el.username.focus();
  }

  function showChat() {
    el.login.hidden = true;
    el.chat.hidden = false;
  }

  function updateLoginButton() {
    el.loginButton.disabled = !(el.username.value.trim().length > 2);
  }

  // ---- The user list -----------------------------------------------------

  function makeRow(user) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'user';
    b.dataset.userId = user.userID;
    b.addEventListener('click', () => select(user.userID, true));
    const avatar = span('avatar');
    avatar.setAttribute('aria-hidden', 'true');
    const main = span('user-main');
    const name = span('user-name');
    const status = span('user-status');
    const dot = span('dot');
    dot.setAttribute('aria-hidden', 'true');
    status.append(dot, span('status-text'));
    main.append(name, status);
    const badge = span('badge');
    badge.setAttribute('aria-hidden', 'true');
    b.append(avatar, main, badge);
    li.append(b);
    return li;
  }

  function updateRow(user) {
    let li = rows.get(user.userID);
    if (!li) {
      li = makeRow(user);
      rows.set(user.userID, li);
    }
    const b = li.firstChild;
    setAvatar(b.querySelector('.avatar'), user);
    const name = b.querySelector('.user-name');
    name.textContent = user.username;
    if (user.self) name.append(span('self-tag', ' (yourself)'));
    b.querySelector('.dot').className = 'dot ' + (user.connected ? 'online' : 'offline');
    b.querySelector('.status-text').textContent = user.connected ? 'online' : 'offline';
    const badge = b.querySelector('.badge');
    badge.textContent = user.unread > 99 ? '99+' : String(user.unread);
    badge.hidden = !(user.unread > 0);
    b.classList.toggle('has-unread', user.unread > 0);
    b.setAttribute('aria-label', describe(user));
    if (user.userID === state.selected) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
    return li;
  }

  function renderUsers() {
    state.users.sort(byUsername);
    const want = state.users.map(updateRow);
    // Reorder only when needed: moving a focused button would blur it.
    const have = Array.from(el.users.children);
    if (want.length !== have.length || want.some((li, i) => li !== have[i])) {
      const focused = document.activeElement;
      for (const li of want) el.users.append(li);
      if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus();
    }
    el.usersLoading.hidden = state.users.length > 0;
    const unread = state.users.reduce((n, u) => n + (u.unread || 0), 0);
    document.title = (unread > 0 ? '(' + unread + ') ' : '') + TITLE;
  }

  // ---- The conversation --------------------------------------------------

  function senderName(user, msg) {
    if (msg.from === state.me) {
      const me = findUser(state.me);
      return (me ? me.username : 'You') + ' (yourself)';
    }
    return user.username;
  }

  // Append one message to the log; the sender's name heads a run of
  // messages from the same sender.
  function appendMessage(user, msg, prev) {
    const mine = msg.from === state.me;
    const frag = document.createDocumentFragment();
    if (!prev || prev.from !== msg.from) {
      const who = document.createElement('div');
      who.className = 'sender' + (mine ? ' mine' : '');
      who.textContent = senderName(user, msg);
      frag.append(who);
    }
    const m = document.createElement('div');
    m.className = 'message' + (mine ? ' mine' : '');
    m.textContent = msg.content;
    if (msg.error) {
      m.classList.add('failed');
      const why = document.createElement('div');
      why.className = 'failed-note';
      why.textContent = 'Not sent: ' + msg.error;
      m.append(why);
    }
    msg.node = m;
    frag.append(m);
    el.messages.append(frag);
  }

  function nearBottom() {
    const m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  function scrollToEnd() {
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function updateHeader(user) {
    setAvatar(el.peerAvatar, user);
    el.peerName.textContent = user.username + (user.self ? ' (yourself)' : '');
    el.peerStatus.querySelector('.dot').className = 'dot ' + (user.connected ? 'online' : 'offline');
    el.peerStatus.querySelector('.status-text').textContent = user.connected ? 'online' : 'offline';
    el.messages.setAttribute('aria-label', 'Conversation with ' + user.username + (user.self ? ' (yourself)' : ''));
    el.inputLabel.textContent = 'Message to ' + user.username + (user.self ? ' (yourself)' : '');
  }

  function updateEmptyNote(user) {
    el.noMessages.hidden = user.messages.length > 0;
    el.noMessages.textContent = user.self
      ? 'No messages yet. Notes to yourself appear here and in your other tabs.'
      : 'No messages yet. Say hello to ' + user.username + '!';
  }

  function renderPanel() {
    const user = state.selected && findUser(state.selected);
    if (!user) {
      el.panel.hidden = true;
      el.empty.hidden = false;
      return;
    }
    el.empty.hidden = true;
    el.panel.hidden = false;
    updateHeader(user);
    el.messages.replaceChildren();
    user.messages.forEach((msg, i) => appendMessage(user, msg, user.messages[i - 1]));
    updateEmptyNote(user);
    scrollToEnd();
  }

  function select(userID, byUser) {
    const user = findUser(userID);
    if (!user) return;
    const changed = state.selected !== userID;
    state.selected = userID;
    store.set('sessionStorage', 'selected', userID);
    markRead(user);
    renderUsers();
    if (changed) renderPanel();
    if (byUser) {
      // On a phone the panels stack: bring the conversation into view.
      if (window.matchMedia('(max-width: 640px)').matches) el.panel.scrollIntoView({ block: 'end' });
      el.input.focus({ preventScroll: true });
    }
  }

  // A message for the conversation with user (received or sent).
  function addMessage(user, msg) {
    const prev = user.messages[user.messages.length - 1];
    user.messages.push(msg);
    if (user.userID === state.selected) {
      const stick = msg.from === state.me || nearBottom();
      appendMessage(user, msg, prev);
      updateEmptyNote(user);
      if (stick) scrollToEnd();
      markRead(user);
    } else if (msg.from !== state.me) {
      user.unread = (user.unread || 0) + 1;
    }
    renderUsers();
  }

  // ---- Composer ----------------------------------------------------------

  function updateSend() {
    el.send.disabled = el.input.value.trim().length === 0;
  }

  function autosize() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(el.input.scrollHeight + 2, 160) + 'px';
  }

  function sendMessage() {
    const content = el.input.value;
    const user = state.selected && findUser(state.selected);
    if (!user || content.trim().length === 0) return;
    const msg = { content, from: state.me, to: user.userID };
    socket.emit('private message', { content, to: user.userID }, (res) => {
      // sio-fcgi acknowledges; a refused message says why.
      if (res && typeof res.error === 'string') {
        msg.error = res.error;
        if (msg.node) {
          msg.node.classList.add('failed');
          const why = document.createElement('div');
          why.className = 'failed-note';
          why.textContent = 'Not sent: ' + res.error;
          msg.node.append(why);
        }
      }
    });
    el.input.value = '';
    autosize();
    updateSend();
    addMessage(user, msg);
  }

  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    sendMessage();
    el.input.focus();
  });
  el.input.addEventListener('input', () => { updateSend(); autosize(); });
  el.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });

  // ---- Username screen ---------------------------------------------------

  el.username.addEventListener('input', () => {
    el.loginError.textContent = '';
    updateLoginButton();
  });
  el.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = el.username.value.trim();
    if (username.length <= 2) return;
    state.triedUsername = true;
    socket.auth = { username };
    showChat();
    socket.connect();
  });

  // ---- Socket events -----------------------------------------------------

  let wasConnected = false;

  function setConnectionNote(text) {
    el.connection.textContent = text || '';
    el.connection.hidden = !text;
  }

  socket.on('connect', () => {
    wasConnected = true;
    setConnectionNote('');
    const me = state.me && findUser(state.me);
    if (me) { me.connected = true; renderUsers(); if (me.userID === state.selected) updateHeader(me); }
  });

  socket.on('disconnect', (reason) => {
    const me = state.me && findUser(state.me);
    if (me) { me.connected = false; renderUsers(); if (me.userID === state.selected) updateHeader(me); }
    if (reason === 'io server disconnect') setConnectionNote('Disconnected by the server. Reload the page to reconnect.');
    else if (reason !== 'io client disconnect') setConnectionNote('Connection lost. Reconnecting…');
  });

  socket.on('connect_error', (err) => {
    if (err && err.message === 'invalid username') {
      // An unknown session (or a refused name): back to the username screen.
      store.del('localStorage', 'sessionID');
      socket.auth = {};
      setConnectionNote('');
      showLogin(state.triedUsername
        ? 'This username cannot be used. Try another one.'
        : 'Your session has ended. Choose a username to start again.');
      return;
    }
    setConnectionNote(wasConnected ? 'Connection lost. Reconnecting…' : 'Cannot reach the server. Retrying…');
  });

  socket.on('session', ({ sessionID, userID }) => {
    // Later reconnections (and every tab) use the session.
    socket.auth = { sessionID };
    store.set('localStorage', 'sessionID', sessionID);
    state.me = userID;
    socket.userID = userID;
  });

  socket.on('users', (users) => {
    if (!Array.isArray(users)) return;
    const marks = readMarks();
    for (const u of users) {
      if (!u || typeof u.userID !== 'string' || typeof u.username !== 'string') continue;
      const messages = Array.isArray(u.messages)
        ? u.messages.filter((m) => m && typeof m.content === 'string').map((m) => ({ content: m.content, from: m.from, to: m.to }))
        : [];
      let user = findUser(u.userID);
      if (user) {
        user.connected = !!u.connected;
        user.username = u.username;
        user.messages = messages;
      } else {
        user = { userID: u.userID, username: u.username, connected: !!u.connected, messages, unread: 0 };
        state.users.push(user);
      }
      user.self = user.userID === state.me;
      if (user.self) user.connected = true;
      user.unread = countUnread(user, marks);
    }
    if (!state.selected) {
      const remembered = store.get('sessionStorage', 'selected');
      if (remembered && findUser(remembered)) state.selected = remembered;
    }
    const sel = state.selected && findUser(state.selected);
    if (sel) markRead(sel);
    renderUsers();
    renderPanel();
  });

  socket.on('user connected', (u) => {
    if (!u || typeof u.userID !== 'string') return;
    const user = findUser(u.userID);
    if (user) {
      user.connected = true;
    } else {
      state.users.push({
        userID: u.userID, username: String(u.username), connected: true,
        messages: [], unread: 0, self: u.userID === state.me,
      });
    }
    renderUsers();
    if (u.userID === state.selected && user) updateHeader(user);
  });

  socket.on('user disconnected', (userID) => {
    const user = findUser(userID);
    if (!user) return;
    user.connected = false;
    renderUsers();
    if (user.userID === state.selected) updateHeader(user);
  });

  socket.on('private message', (m) => {
    if (!m || typeof m.content !== 'string') return;
    const fromSelf = m.from === state.me;
    const user = findUser(fromSelf ? m.to : m.from);
    if (!user) return;
    addMessage(user, { content: m.content, from: m.from, to: m.to });
  });

  // ---- Start -------------------------------------------------------------

  const sessionID = store.get('localStorage', 'sessionID');
  if (sessionID) {
    socket.auth = { sessionID };
    showChat();
    socket.connect();
  } else {
    showLogin('');
  }
})();
