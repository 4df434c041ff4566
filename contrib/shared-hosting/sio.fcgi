#!/bin/sh
# sio.fcgi: the program mod_fcgid runs for sio-fcgi's chat on shared
# hosting (see the .htaccess beside it, and docs/deploy.md, "Shared
# hosting").  Upload it into your web space beside .htaccess, make it
# executable (chmod 755 sio.fcgi) and set the paths below.
#
# It starts the sio-fcgi binary with the chat's database OUTSIDE the web
# space: everything in the web space can be downloaded, and the database
# holds every message.  mod_fcgid starts as many copies as there are
# requests in flight (one per connected user, who holds a long poll);
# they all open the same database, so any of them serves any request.
#
# The paths are written out here, not taken from $HOME: mod_fcgid gives
# the program no environment but PATH (and suexec, where the host uses
# it, clears even that).

# --- Settings: set these when you install ---------------------------------

# The sio-fcgi binary, uploaded outside the web space (it is no page).
SIO_FCGI=/home/USER/sio-fcgi/bin/sio-fcgi
# The chat's database (an LMDB environment: a directory that sio-fcgi
# creates, mode 0700).  Outside the web space.
SIO_DATA=/home/USER/sio-fcgi/data
# sio-fcgi's log (warnings, errors).  On shared hosting the web server's
# error log, where it would go otherwise, is often not yours to read.
SIO_LOG=/home/USER/sio-fcgi/sio-fcgi.log
# warn, info or debug.  debug logs every request, with the pid of the
# process that served it, and session ids: for looking, not for running.
SIO_LOG_LEVEL=warn
# The URL path of the chat's requests: the .htaccess's RewriteBase
# followed by socket.io (/socket.io when the chat is at the site's root,
# /chat/socket.io in https://your.site/chat/).
SIO_PATH=/socket.io

# --- End of settings -------------------------------------------------------

# What it writes is the user's alone.
umask 077

# A wrapper still holding the placeholders refuses to start; Apache then
# answers 500 and its error log has this line.
case $SIO_FCGI$SIO_DATA$SIO_LOG in
*/home/USER/*)
	echo "sio.fcgi: set SIO_FCGI, SIO_DATA and SIO_LOG at the top of $0" >&2
	exit 1 ;;
esac

# Refuse a database inside the directory of this script, which is in the
# web space (where the web space starts, the script cannot know): as
# written, before creating anything, and once created, through links.
here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
inside()
{
	case $1/ in
	"$here"/*)
		echo "sio.fcgi: $SIO_DATA is inside the web space: anyone could download it" >&2
		exit 1 ;;
	esac
}
inside "$SIO_DATA"
mkdir -p "$SIO_DATA" "$(dirname "$SIO_LOG")" || exit 1
inside "$(cd "$SIO_DATA" && pwd -P)"

# Hosts that lack one of sio-fcgi's libraries (libfcgi, liblmdb,
# libjson-c, libuuid: see "ldd sio-fcgi"): upload them into a directory
# of yours and name it here.
#LD_LIBRARY_PATH=/home/USER/sio-fcgi/lib
#export LD_LIBRARY_PATH

# The FastCGI socket is fd 0 (mod_fcgid's).  --threads 1: mod_fcgid gives
# a process one request at a time, so more threads would only cost
# memory.  The heartbeat stays at its default: a poll is held for
# pingInterval (25 s), below mod_fcgid's FcgidIOTimeout (40 s).
exec "$SIO_FCGI" --db "$SIO_DATA" --path "$SIO_PATH" --threads 1 \
    --log-level "$SIO_LOG_LEVEL" 2>>"$SIO_LOG"
