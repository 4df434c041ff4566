/*
 * sio-fcgi: levelled logging to stderr.
 *
 * The web server puts a FastCGI backend's stderr in its error log, so one
 * line per event, prefixed by the program name and pid.  Nothing to own.
 */
#ifndef LOG_H
#define LOG_H

#include "compat.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Set the identity and the most verbose level written. */
void	log_init(const char *ident, enum log_level level);
/* Parse "error", "warn", "info" or "debug"; -1 if none of them. */
int	log_level_parse(const char *);
/* True when messages at level would be written. */
int	log_enabled(enum log_level level);

void	log_debug(const char *, ...) printflike(1, 2);
void	log_info(const char *, ...) printflike(1, 2);
/* log_warn appends strerror(errno), log_warnx does not (as warn(3)). */
void	log_warn(const char *, ...) printflike(1, 2);
void	log_warnx(const char *, ...) printflike(1, 2);
/* Errors that the process survives. */
void	log_error(const char *, ...) printflike(1, 2);
__dead void fatal(const char *, ...) printflike(1, 2);
__dead void fatalx(const char *, ...) printflike(1, 2);

#endif
