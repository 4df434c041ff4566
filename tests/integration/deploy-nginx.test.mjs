// Deployment: nginx in front of the sio-fcgi daemon on a UNIX socket,
// from contrib/nginx.conf (serve adapts its listen, fastcgi_pass and root
// lines only), with the chat and its web page (see lib/deploy.mjs).  With
// CI set, a missing nginx is a failure, never a skip.
import { deploySuite } from './lib/deploy.mjs';
import { CHAT_ARGS } from './lib/chat.mjs';

deploySuite({
  name: 'nginx',
  front: 'nginx',
  conf: 'nginx.conf',
  args: CHAT_ARGS,
});
