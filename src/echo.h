/*
 * sio-fcgi: the echo application (APP.md section 3): raw Engine.IO at
 * /engine.io, every message a client sends, text or binary, is sent back
 * to it.  The official Engine.IO test suite needs it.
 */
#ifndef ECHO_H
#define ECHO_H

#include "eio.h"

/* The handler table; register it with eio_add_handler(). */
extern const struct eio_handler echo_handler;

#endif
