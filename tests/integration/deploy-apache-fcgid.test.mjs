// Deployment: Apache 2.4 (event MPM) + mod_fcgid spawning sio-fcgi, from
// contrib/apache-fcgid.conf, with the chat and its web page (see
// lib/deploy.mjs).  mod_fcgid gives each process one request at a time,
// so one session's requests run in several processes: shown from the
// debug log.  With CI set, a missing apache2 or mod_fcgid is a failure.
import { deploySuite } from './lib/deploy.mjs';

deploySuite({
  name: 'apache-fcgid',
  front: 'apache-fcgid',
  conf: 'apache-fcgid.conf',
  // A pong deadline above mod_fcgid's 1 s wait for a new process (a pong
  // that waits behind held polls must not end the session), and a pool
  // of processes grown before the chat starts.
  args: ['--app', 'chat', '--ping-interval', '1000', '--ping-timeout', '2000', '--log-level', 'debug'],
  warm: 5,
  fcgidLog: true,
});
