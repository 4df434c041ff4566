// Deployment: Apache 2.4 (event MPM) + mod_proxy_fcgi in front of the
// sio-fcgi daemon on a UNIX socket, from contrib/apache-proxy.conf, with
// the chat and its web page (see lib/deploy.mjs).  With CI set, a missing
// apache2 or mod_proxy_fcgi is a failure, never a skip.
import { deploySuite } from './lib/deploy.mjs';
import { CHAT_ARGS } from './lib/chat.mjs';

deploySuite({
  name: 'apache-proxy',
  front: 'apache-proxy',
  conf: 'apache-proxy.conf',
  args: CHAT_ARGS,
});
