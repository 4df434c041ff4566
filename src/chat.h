/*
 * sio-fcgi: the private-messaging chat of the Socket.IO guide (APP.md
 * section 1), written only against the application API (sio.h) and the
 * store's application table.  Sessions, users and messages live in the
 * shared LMDB environment: any process serves any event, and a restart of
 * every process loses nothing.
 */
#ifndef CHAT_H
#define CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "sio.h"

#define CHAT_USERNAME_MAX	32	/* default: characters, trimmed */
#define CHAT_CONTENT_MAX	10000	/* default: bytes of one message */

struct chat_config {
	size_t	history;	/* messages kept per conversation */
	int64_t	retention;	/* ms a message is kept; 0 = forever */
	int64_t	session_ttl;	/* ms an unused session is kept */
	size_t	max_tabs;	/* sockets one user may have at once */
	size_t	max_username;	/* characters of a username */
	size_t	max_content;	/* bytes of a message's content */
};

/*
 * Set the configuration (copied) and return the namespace table to give
 * sio_new().
 */
const struct sio_namespace *chat_namespaces(const struct chat_config *);

#endif
