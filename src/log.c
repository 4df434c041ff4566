/*
 * sio-fcgi: levelled logging to stderr, one line per event.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static const char	*log_ident = "sio-fcgi";
static int		 log_level = LOG_LEVEL_WARN;

static const char *log_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_level = level;
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(log_names); i++) {
		if (strcasecmp(s, log_names[i]) == 0)
			return ((int)i);
	}
	if (strcasecmp(s, "warning") == 0)
		return (LOG_LEVEL_WARN);
	return (-1);
}

int
log_enabled(enum log_level level)
{
	return ((int)level <= log_level);
}

/* One write(2) per line so lines of concurrent threads never mix. */
static void log_vwrite(enum log_level, const char *, const char *, va_list)
    printflike(3, 0);

static void
log_vwrite(enum log_level level, const char *errstr, const char *fmt,
    va_list ap)
{
	char	line[2048];
	int	n, m;

	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_ident,
	    (long)getpid(), log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (errstr != NULL)
		n += snprintf(line + n, sizeof(line) - n, ": %s", errstr);
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_BODY(level, errstr) do {					\
	va_list	ap;							\
	if (!log_enabled(level))					\
		return;							\
	va_start(ap, fmt);						\
	log_vwrite(level, errstr, fmt, ap);				\
	va_end(ap);							\
} while (0)

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void
log_warn(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARN, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, NULL);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char	*e = strerror(errno);
	va_list		 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
