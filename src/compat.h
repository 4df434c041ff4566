/*
 * sio-fcgi: a Socket.IO long-polling server for FastCGI.
 *
 * Small portability macros shared by every module.
 */
#ifndef COMPAT_H
#define COMPAT_H

#define printflike(a, b)	__attribute__((format(printf, a, b)))
#define __dead			__attribute__((noreturn))
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

#endif
