/*
 * sio-fcgi: the Socket.IO v5 server and its application API.
 *
 * An application is a table of namespaces (struct sio_namespace), each
 * with a middleware that may refuse a CONNECT, a connection handler,
 * named event handlers (with an optional ack to answer), an ack handler
 * for the acks the server asked for, and a disconnect handler.  Handlers
 * act through the calls below: emit to a socket, to rooms with
 * exclusions or to everyone, join and leave rooms, read and write the
 * socket's JSON data, list a room, disconnect.  Every call goes through
 * the store inside the transaction of the request being handled, so it
 * works the same from any process and commits with that request or not
 * at all.  No handler may keep a struct sio_socket or a json_object it
 * borrowed after it returns.
 *
 * Binary data travels as placeholders: an argument that carries bytes
 * is the object {"_placeholder":true,"num":N} in the JSON, and the bytes
 * are the N-th entry of a struct sio_bins.  Handlers receive them that
 * way and emit them that way (sio_placeholder_new() in sio_packet.h).
 *
 * Error convention: 0 or a negative errno (-ENOENT unknown socket or
 * room member, -EINVAL bad argument, -ENOSPC store full, -EIO).
 */
#ifndef SIO_H
#define SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "eio.h"
#include "sio_packet.h"

struct sio;
struct sio_socket;

/* Binary attachments: entries borrowed, in placeholder order. */
struct sio_bin {
	const void	*data;
	size_t		 len;
};
struct sio_bins {
	const struct sio_bin	*v;
	size_t			 n;
};

/*
 * What a middleware decides.  To refuse: message (required) and optional
 * error_data, sent as CONNECT_ERROR {message, data}.  To accept, it may
 * give the socket its first data (what sio_socket_data() returns), as a
 * Node middleware sets socket.data.  Objects set here are taken by sio.
 */
struct sio_verdict {
	char			 message[256];
	struct json_object	*error_data;
	struct json_object	*socket_data;
};

/*
 * A client's request for an acknowledgement; NULL when the event carried
 * no ack id.  Answer it at most once with sio_ack().
 */
struct sio_ack;

struct sio_event {
	const char	*name;
	/*
	 * args: the event's arguments without the name, an array (borrowed);
	 * bins: its attachments; ack: NULL or the client's ack request.
	 */
	void		(*fn)(void *arg, struct sio_socket *,
			    struct json_object *args, const struct sio_bins *bins,
			    struct sio_ack *ack);
};

struct sio_namespace {
	const char		*name;		/* "/", "/custom" */
	/*
	 * Before a socket exists: accept (return 0) or refuse (return -1
	 * after filling v->message).  auth is the CONNECT payload, {} when
	 * absent (borrowed).  NULL accepts everyone.
	 */
	int			(*middleware)(void *arg, struct eio_ctx *,
				    struct json_object *auth,
				    struct sio_verdict *v);
	/* The socket joined; it already has its room (its own id). */
	void			(*on_connection)(void *arg,
				    struct sio_socket *, struct json_object *auth);
	/* Named events; the table ends with a NULL name. */
	const struct sio_event	*events;
	/* Any event not in the table (NULL: ignored). */
	void			(*on_any)(void *arg, struct sio_socket *,
				    const char *name, struct json_object *args,
				    const struct sio_bins *bins,
				    struct sio_ack *ack);
	/* The client answered sio_emit_ack(); tag is what was given. */
	void			(*on_ack)(void *arg, struct sio_socket *,
				    const char *tag, struct json_object *args,
				    const struct sio_bins *bins);
	/* The socket is gone, with Node's reason string, exactly once. */
	void			(*on_disconnect)(void *arg,
				    struct sio_socket *, const char *reason);
	void			*arg;
};

struct sio_config {
	int64_t		connect_timeout;	/* ms to join a namespace */
	/*
	 * Connection state recovery (PROTOCOL.md section 9): how long (ms)
	 * a socket lost abruptly can come back with its id, rooms and data
	 * and get the events it missed; 0 = off.
	 */
	int64_t		recovery;
};

/*
 * Create the Socket.IO server and its Engine.IO handler for path
 * ("/socket.io"); register the handler with eio_add_handler().  The
 * namespace table ends with a NULL name and is borrowed for the server's
 * lifetime.
 */
struct sio *sio_new(const struct sio_config *, const char *path,
	    const struct sio_namespace *namespaces);
void	sio_free(struct sio *);
const struct eio_handler *sio_eio_handler(struct sio *);

/* The socket's id (its Socket.IO sid), namespace and Engine.IO sid. */
const char *sio_socket_id(const struct sio_socket *);
const char *sio_socket_nsp(const struct sio_socket *);
const char *sio_socket_eio_sid(const struct sio_socket *);
struct eio_ctx *sio_socket_ctx(const struct sio_socket *);
/* True when the socket came back through connection state recovery. */
bool	sio_socket_recovered(const struct sio_socket *);

/*
 * Emit event with args (an array, borrowed; NULL = no arguments) and
 * bins (NULL = none) to this socket.
 */
int	sio_emit(struct sio_socket *, const char *event,
	    struct json_object *args, const struct sio_bins *bins);
/*
 * Emit and ask the client for an ack: when it answers, the namespace's
 * on_ack runs with tag (at most 63 bytes, copied).
 */
int	sio_emit_ack(struct sio_socket *, const char *event,
	    struct json_object *args, const struct sio_bins *bins,
	    const char *tag);
/* Answer a client's ack request with results (an array, or NULL). */
int	sio_ack(struct sio_ack *, struct json_object *results,
	    const struct sio_bins *bins);

/*
 * Who a broadcast reaches, in one namespace: the sockets in any of rooms
 * (all sockets of the namespace when nrooms is 0), minus those in any of
 * except, minus except_socket (a socket id, or NULL).  Each socket gets
 * the packet once.
 */
struct sio_target {
	const char	*nsp;
	const char	**rooms;
	size_t		 nrooms;
	const char	**except;
	size_t		 nexcept;
	const char	*except_socket;
};
/*
 * Encode once and queue for every socket of target, in the transaction
 * of ctx.  Returns the number of sockets reached or -errno.
 */
int	sio_broadcast(struct eio_ctx *, const struct sio_target *,
	    const char *event, struct json_object *args,
	    const struct sio_bins *bins);

/* Join or leave a room (a non-empty string of at most 255 bytes). */
int	sio_join(struct sio_socket *, const char *room);
int	sio_leave(struct sio_socket *, const char *room);
/*
 * Call fn with the id of each socket in room of nsp (every socket of nsp
 * when room is NULL), in id order; fn returns non-zero to stop.
 */
int	sio_room_each(struct eio_ctx *, const char *nsp,
	    const char *room, int (*fn)(void *arg, const char *sid), void *arg);

/*
 * The socket's application data: a new reference (json_object_put it),
 * NULL when none was set; and setting it (borrowed, copied).  The object
 * returned is shared with later calls of the same thread: read it, do
 * not change it (set a new one instead).
 */
struct json_object *sio_socket_data(struct sio_socket *);
int	sio_socket_set_data(struct sio_socket *, struct json_object *data);

/*
 * Disconnect the socket from its namespace (the client gets DISCONNECT;
 * reason "server namespace disconnect"); with close, every namespace of
 * its Engine.IO session and then the session itself (gracefully).
 */
int	sio_disconnect(struct sio_socket *, bool close);

#endif
