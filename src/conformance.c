/*
 * sio-fcgi: the conformance application.
 *
 * On connection: emit "auth" with the CONNECT payload.  "message" comes
 * back as "message-back", "message-with-ack" is acked with its own
 * arguments, "broadcast" goes to every socket of "/" as
 * "broadcast-back", "request-ack" asks the client for an ack
 * ("server-ack-request") and sends what it acks back as "ack-back",
 * "disconnect-me" and "close-me" disconnect from the server side.
 */
#include "config.h"

#include <stddef.h>

#include "conformance.h"

static void
conformance_on_connection(void *arg, struct sio_socket *sock,
    struct json_object *auth)
{
	struct json_object	*args;

	(void)arg;
	args = json_object_new_array();
	json_object_array_add(args, json_object_get(auth));
	(void)sio_emit(sock, "auth", args, NULL);
	json_object_put(args);
}

static void
conformance_message(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	(void)arg;
	(void)ack;
	(void)sio_emit(sock, "message-back", args, bins);
}

static void
conformance_message_with_ack(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	(void)arg;
	(void)sock;
	if (ack != NULL)
		(void)sio_ack(ack, args, bins);
}

static void
conformance_broadcast(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	struct sio_target	t = { .nsp = "/" };

	(void)arg;
	(void)ack;
	(void)sio_broadcast(sio_socket_ctx(sock), &t, "broadcast-back",
	    args, bins);
}

static void
conformance_request_ack(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	(void)arg;
	(void)ack;
	(void)sio_emit_ack(sock, "server-ack-request", args, bins,
	    "request-ack");
}

static void
conformance_on_ack(void *arg, struct sio_socket *sock, const char *tag,
    struct json_object *args, const struct sio_bins *bins)
{
	(void)arg;
	(void)tag;
	(void)sio_emit(sock, "ack-back", args, bins);
}

static void
conformance_disconnect_me(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	(void)arg;
	(void)args;
	(void)bins;
	(void)ack;
	(void)sio_disconnect(sock, false);
}

static void
conformance_close_me(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	(void)arg;
	(void)args;
	(void)bins;
	(void)ack;
	(void)sio_disconnect(sock, true);
}

static const struct sio_event conformance_events[] = {
	{ "message", conformance_message },
	{ "message-with-ack", conformance_message_with_ack },
	{ "broadcast", conformance_broadcast },
	{ "request-ack", conformance_request_ack },
	{ "disconnect-me", conformance_disconnect_me },
	{ "close-me", conformance_close_me },
	{ NULL, NULL },
};

const struct sio_namespace conformance_namespaces[] = {
	{
		.name = "/",
		.on_connection = conformance_on_connection,
		.events = conformance_events,
		.on_ack = conformance_on_ack,
	},
	{
		.name = "/custom",
		.on_connection = conformance_on_connection,
		.events = conformance_events,
		.on_ack = conformance_on_ack,
	},
	{ .name = NULL },
};
