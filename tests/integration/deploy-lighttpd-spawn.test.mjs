// Deployment: lighttpd spawning two sio-fcgi processes itself (bin-path),
// from contrib/lighttpd-spawn.conf, with the chat and its web page (see
// lib/deploy.mjs).  With CI set, a missing lighttpd is a failure.
import { deploySuite } from './lib/deploy.mjs';
import { CHAT_ARGS } from './lib/chat.mjs';

deploySuite({
  name: 'lighttpd spawn',
  front: 'lighttpd',
  mode: 'spawn',
  procs: 2,
  conf: 'lighttpd-spawn.conf',
  args: CHAT_ARGS,
});
