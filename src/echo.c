/*
 * sio-fcgi: the echo application.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#include "echo.h"

static int
echo_on_message(void *arg, struct eio_ctx *ctx, const char *sid,
    bool binary, const char *data, size_t len)
{
	(void)arg;
	return (eio_send(ctx, sid, binary, data, len));
}

const struct eio_handler echo_handler = {
	.path = "/engine.io",
	.on_message = echo_on_message,
};
