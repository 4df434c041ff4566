/*
 * sio-fcgi: the conformance application (APP.md section 2): what the
 * official Engine.IO v4 and Socket.IO v5 protocol test suites expect of a
 * server, written against the application API only.
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include "sio.h"

/* The namespace table: "/" and "/custom"; the table ends with NULL. */
extern const struct sio_namespace conformance_namespaces[];

#endif
