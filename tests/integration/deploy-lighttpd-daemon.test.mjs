// Deployment: lighttpd in front of the sio-fcgi daemon on a UNIX socket,
// from contrib/lighttpd-daemon.conf, with the chat and its web page (see
// lib/deploy.mjs).  With CI set, a missing lighttpd is a failure.
import { deploySuite } from './lib/deploy.mjs';
import { CHAT_ARGS } from './lib/chat.mjs';

deploySuite({
  name: 'lighttpd daemon',
  front: 'lighttpd',
  mode: 'daemon',
  conf: 'lighttpd-daemon.conf',
  args: CHAT_ARGS,
});
