/*
 * sio-fcgi: the private-messaging chat.
 *
 * Records in the store's application table (STORE_T_APP):
 *   "cs/" sessionID          -> {"userID","username","connected","seen"}
 *   "cu/" userID             -> sessionID
 *   "cm/" a "/" b "/" seq    -> a message: 0x01, "t" (8 bytes, big-
 *                               endian ms), 0 if a sent it to b or 1 if b
 *                               to a, then the content; a < b the two
 *                               userIDs, seq big-endian: one
 *                               conversation in order.  Stored before
 *                               as JSON {"content","from","to","t"},
 *                               which is read as well
 *   "cm/" a "/" b "~"        -> the oldest and the newest seq kept, and
 *                               the oldest one's "t" when known (0:
 *                               not known; a record of the first two
 *                               alone is read as that); after the
 *                               conversation's messages, on the page the
 *                               newest one is written to.  Read from
 *                               "cn/" a "/" b when only that is there
 *                               (where it was kept before), and moved.
 * Presence needs no record of its own: a user is online while the room
 * named after its userID has a socket, in any process.  The decision and
 * the broadcast that announces it happen in the transaction that adds
 * or removes the socket, so no reconnecting tab can be shown offline.
 */
#include "config.h"

#include <sys/random.h>

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "log.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

#define CHAT_SESSION_BYTES	16	/* sessionID: 128 bits, a secret */
#define CHAT_USER_BYTES		8	/* userID: public, as the guide's */

static struct chat_config chat_cfg = {
	.history = 100,
	.retention = 30LL * 24 * 3600 * 1000,
	.session_ttl = 30LL * 24 * 3600 * 1000,
	.max_tabs = 32,
	.max_username = CHAT_USERNAME_MAX,
	.max_content = CHAT_CONTENT_MAX,
};

static int	chat_count_fn(void *, const char *);

/* Helpers. */

static void
chat_random_hex(char *out, size_t bytes)
{
	unsigned char	raw[32];
	size_t		off = 0, i;
	ssize_t		n;

	while (off < bytes) {
		if ((n = getrandom(raw + off, bytes - off, 0)) < 0) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		off += (size_t)n;
	}
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static bool
chat_is_hex(const char *s, size_t len)
{
	size_t	i;

	if (strlen(s) != len)
		return (false);
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return (false);
	}
	return (true);
}

/*
 * The string member key of obj, or NULL when it is missing, not a
 * string, or holds a NUL ("\u0000"): C would cut it short there.
 */
static const char *
chat_get_string(struct json_object *obj, const char *key)
{
	struct json_object	*v;
	const char		*s;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return (NULL);
	return (s);
}

static void
chat_key(struct buf *k, const char *kind, const char *a, const char *b)
{
	buf_reset(k);
	buf_append_str(k, kind);
	buf_append_str(k, a);
	if (b != NULL) {
		buf_append_char(k, '/');
		buf_append_str(k, b);
	}
}

/* The key prefix of the conversation of two users, in a fixed order. */
static void
chat_conversation_key(struct buf *k, const char *kind, const char *u1,
    const char *u2)
{
	if (strcmp(u1, u2) <= 0)
		chat_key(k, kind, u1, u2);
	else
		chat_key(k, kind, u2, u1);
}

static struct json_object *
chat_get_json(struct store_txn *txn, const struct buf *k)
{
	struct json_object	*obj = NULL;
	struct buf		 v;

	buf_init(&v);
	if (store_kv_get(txn, STORE_T_APP, k->data, k->len, &v) == 0)
		obj = sio_json_parse(v.data, v.len);
	buf_clear(&v);
	return (obj);
}

static int
chat_put_json(struct store_txn *txn, const struct buf *k,
    struct json_object *obj)
{
	struct buf	v;
	int		rc;

	buf_init(&v);
	sio_json_encode(obj, &v);
	rc = store_kv_put(txn, STORE_T_APP, k->data, k->len, v.data, v.len);
	buf_clear(&v);
	return (rc);
}

/*
 * A valid username: a string, trimmed, 1 to chat_cfg.max_username
 * characters of valid UTF-8 with no control character.  Returns a new
 * string or NULL.
 */
static char *
chat_username(struct json_object *auth)
{
	const char	*s, *end;
	size_t		 n = 0;
	const unsigned char *p;

	if ((s = chat_get_string(auth, "username")) == NULL)
		return (NULL);
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == s || !text_utf8_is_valid(s, (size_t)(end - s)))
		return (NULL);
	for (p = (const unsigned char *)s; p < (const unsigned char *)end;
	    p++) {
		if (*p < 0x20 || *p == 0x7f)
			return (NULL);
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	if (n > chat_cfg.max_username) {
		log_warnx("chat: a username of %zu characters refused "
		    "(limit %zu)", n, chat_cfg.max_username);
		return (NULL);
	}
	return (xstrndup(s, (size_t)(end - s)));
}

/* Sessions. */

static int
chat_save_session(struct store_txn *txn, const char *session_id,
    const char *user_id, const char *username, bool connected, int64_t now)
{
	struct json_object	*o;
	struct buf		 k;
	int			 rc;

	o = json_object_new_object();
	json_object_object_add(o, "userID", json_object_new_string(user_id));
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "connected",
	    json_object_new_boolean(connected));
	json_object_object_add(o, "seen", json_object_new_int64(now));
	buf_init(&k);
	chat_key(&k, "cs/", session_id, NULL);
	rc = chat_put_json(txn, &k, o);
	if (rc == 0) {
		chat_key(&k, "cu/", user_id, NULL);
		rc = store_kv_put(txn, STORE_T_APP, k.data, k.len, session_id,
		    strlen(session_id));
	}
	buf_clear(&k);
	json_object_put(o);
	return (rc);
}

/*
 * CONNECT: a known sessionID takes its session; otherwise a username is
 * required and a new session is made.  What was found becomes the
 * socket's data.
 */
static int
chat_middleware(void *arg, struct eio_ctx *ctx, struct json_object *auth,
    struct sio_verdict *v)
{
	struct json_object	*session = NULL, *d;
	const char		*session_id, *user_id, *name;
	char			 sid[2 * CHAT_SESSION_BYTES + 1];
	char			 uid[2 * CHAT_USER_BYTES + 1];
	char			*username;
	struct buf		 k;

	(void)arg;
	session_id = chat_get_string(auth, "sessionID");
	if (session_id != NULL && chat_is_hex(session_id,
	    2 * CHAT_SESSION_BYTES)) {
		buf_init(&k);
		chat_key(&k, "cs/", session_id, NULL);
		session = chat_get_json(eio_ctx_txn(ctx), &k);
		buf_clear(&k);
	}
	if (session != NULL &&
	    (user_id = chat_get_string(session, "userID")) != NULL &&
	    (name = chat_get_string(session, "username")) != NULL) {
		size_t	tabs = 0;

		(void)sio_room_each(ctx, "/", user_id, chat_count_fn, &tabs);
		if (chat_cfg.max_tabs != 0 && tabs >= chat_cfg.max_tabs) {
			log_warnx("chat: a user has %zu connections: refused",
			    tabs);
			snprintf(v->message, sizeof(v->message),
			    "too many connections");
			json_object_put(session);
			return (-1);
		}
		d = json_object_new_object();
		json_object_object_add(d, "sessionID",
		    json_object_new_string(session_id));
		json_object_object_add(d, "userID",
		    json_object_new_string(user_id));
		json_object_object_add(d, "username",
		    json_object_new_string(name));
		v->socket_data = d;
		json_object_put(session);
		return (0);
	}
	json_object_put(session);

	if ((username = chat_username(auth)) == NULL) {
		snprintf(v->message, sizeof(v->message), "invalid username");
		return (-1);
	}
	chat_random_hex(sid, CHAT_SESSION_BYTES);
	chat_random_hex(uid, CHAT_USER_BYTES);
	d = json_object_new_object();
	json_object_object_add(d, "sessionID", json_object_new_string(sid));
	json_object_object_add(d, "userID", json_object_new_string(uid));
	json_object_object_add(d, "username", json_object_new_string(username));
	v->socket_data = d;
	free(username);
	return (0);
}

/* Who the socket is: its data, with the three strings checked. */
struct chat_who {
	struct json_object	*data;
	const char		*session_id;
	const char		*user_id;
	const char		*username;
};

static bool
chat_who(struct sio_socket *sock, struct chat_who *w)
{
	memset(w, 0, sizeof(*w));
	if ((w->data = sio_socket_data(sock)) == NULL)
		return (false);
	w->session_id = chat_get_string(w->data, "sessionID");
	w->user_id = chat_get_string(w->data, "userID");
	w->username = chat_get_string(w->data, "username");
	if (w->session_id == NULL || w->user_id == NULL ||
	    w->username == NULL) {
		json_object_put(w->data);
		w->data = NULL;
		return (false);
	}
	return (true);
}

/* Messages. */

struct chat_collect {
	struct json_object	*list;		/* array of messages */
	int64_t			 since;		/* older ones are dropped */
	size_t			 n;
};

/* A stored message record (see the top of this file). */
#define CHAT_MSG_TAG	0x01
#define CHAT_MSG_HEAD	10	/* tag, "t", direction */

/* The message record of content sent at t by from (to the other one). */
static void
chat_message_encode(struct buf *v, const char *content, int64_t t,
    bool from_second)
{
	char		head[CHAT_MSG_HEAD];
	uint64_t	u = (uint64_t)t;
	int		i;

	head[0] = CHAT_MSG_TAG;
	for (i = 0; i < 8; i++)
		head[1 + i] = (char)(u >> (8 * (7 - i)));
	head[9] = from_second ? 1 : 0;
	buf_reset(v);
	buf_append(v, head, sizeof(head));
	buf_append_str(v, content);
}

/* The "t" of a message record, 0 when it has none. */
static int64_t
chat_message_record_time(const void *val, size_t vlen)
{
	const unsigned char	*p = val;
	struct json_object	*m, *t;
	uint64_t		 u = 0;
	int64_t			 when = 0;
	int			 i;

	if (vlen >= CHAT_MSG_HEAD && p[0] == CHAT_MSG_TAG) {
		for (i = 0; i < 8; i++)
			u = u << 8 | p[1 + i];
		return ((int64_t)u);
	}
	if ((m = sio_json_parse(val, vlen)) == NULL)
		return (0);
	if (json_object_object_get_ex(m, "t", &t))
		when = json_object_get_int64(t);
	json_object_put(m);
	return (when);
}

/*
 * The message as the client sees it, {"content","from","to"}, from its
 * key "cm/" a "/" b "/" seq and its record; NULL if it is unreadable.
 */
static struct json_object *
chat_message_decode(const char *key, size_t klen, const void *val,
    size_t vlen)
{
	const unsigned char	*p = val;
	struct json_object	*m, *out;
	const char		*a, *b, *end;
	size_t			 alen, blen;

	if (vlen >= CHAT_MSG_HEAD && p[0] == CHAT_MSG_TAG) {
		/* The two userIDs are in the key, before the 8-byte seq. */
		if (klen < 3 + 1 + 1 + 1 + 1 + 8 ||
		    (end = memchr(key + 3, '/', klen - 3 - 9)) == NULL)
			return (NULL);
		a = key + 3;
		alen = (size_t)(end - a);
		b = end + 1;
		blen = (size_t)(key + klen - 9 - b);
		out = json_object_new_object();
		json_object_object_add(out, "content",
		    json_object_new_string_len((const char *)p +
		    CHAT_MSG_HEAD, (int)(vlen - CHAT_MSG_HEAD)));
		json_object_object_add(out, "from",
		    p[9] == 0 ? json_object_new_string_len(a, (int)alen) :
		    json_object_new_string_len(b, (int)blen));
		json_object_object_add(out, "to",
		    p[9] == 0 ? json_object_new_string_len(b, (int)blen) :
		    json_object_new_string_len(a, (int)alen));
		return (out);
	}
	if ((m = sio_json_parse(val, vlen)) == NULL)
		return (NULL);
	out = json_object_new_object();
	json_object_object_add(out, "content",
	    json_object_get(json_object_object_get(m, "content")));
	json_object_object_add(out, "from",
	    json_object_get(json_object_object_get(m, "from")));
	json_object_object_add(out, "to",
	    json_object_get(json_object_object_get(m, "to")));
	json_object_put(m);
	return (out);
}

static int
chat_collect_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct chat_collect	*c = arg;
	struct json_object	*out;
	int64_t			 t;

	/* A message without a time is kept. */
	if (c->since != 0 && (t = chat_message_record_time(val, vlen)) != 0 &&
	    t < c->since)
		return (0);
	if ((out = chat_message_decode(key, klen, val, vlen)) == NULL)
		return (0);
	json_object_array_add(c->list, out);
	c->n++;
	return (0);
}

/* The conversation of two users, in order, within the retention. */
static struct json_object *
chat_conversation(struct eio_ctx *ctx, const char *u1, const char *u2)
{
	struct chat_collect	c;
	struct buf		k;

	memset(&c, 0, sizeof(c));
	c.list = json_object_new_array();
	if (chat_cfg.retention > 0)
		c.since = eio_ctx_now(ctx) - chat_cfg.retention;
	buf_init(&k);
	chat_conversation_key(&k, "cm/", u1, u2);
	buf_append_char(&k, '/');
	(void)store_kv_scan(eio_ctx_txn(ctx), STORE_T_APP, k.data, k.len,
	    chat_collect_fn, &c);
	buf_clear(&k);
	return (c.list);
}

/* The key of message seq of the conversation of u1 and u2. */
static void
chat_message_key(struct buf *k, const char *u1, const char *u2,
    uint64_t seq)
{
	char	be[8];
	int	i;

	chat_conversation_key(k, "cm/", u1, u2);
	buf_append_char(k, '/');
	for (i = 0; i < 8; i++)
		be[i] = (char)(seq >> (8 * (7 - i)));
	buf_append(k, be, sizeof(be));
}

/*
 * The key of the bounds of the conversation of u1 and u2: right after
 * its newest message ('~' sorts after '/' and every hex digit), so that
 * storing a message and its new bounds write the same page.
 */
static void
chat_bounds_key(struct buf *k, const char *u1, const char *u2)
{
	chat_conversation_key(k, "cm/", u1, u2);
	buf_append_char(k, '~');
}

/* A conversation's bounds: the oldest and the newest seq kept. */
struct chat_bounds {
	uint64_t	first;
	uint64_t	last;
	int64_t		first_t;	/* "t" of first, 0 if not known */
};

/* The "t" of a stored message, 0 if it has none or is not there. */
static int64_t
chat_message_time(struct store_txn *txn, const struct buf *k)
{
	struct buf	v;
	int64_t		when = 0;

	buf_init(&v);
	if (store_kv_get(txn, STORE_T_APP, k->data, k->len, &v) == 0)
		when = chat_message_record_time(v.data, v.len);
	buf_clear(&v);
	return (when);
}

/*
 * Store a message at the end of its conversation, then drop from the
 * oldest end what is past chat_cfg.history messages or the retention.
 * The oldest message's time is kept with the bounds, so the retention
 * check reads a message only when the oldest one changed.
 */
static int
chat_store_message(struct eio_ctx *ctx, const char *content,
    const char *from, const char *to, int64_t now)
{
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct chat_bounds	 b = { 1, 0, 0 };
	struct buf		 k, v;
	int64_t			 since = 0;
	bool			 expired;
	int			 rc;

	buf_init(&k);
	buf_init(&v);
	chat_bounds_key(&k, from, to);
	rc = store_kv_get(txn, STORE_T_APP, k.data, k.len, &v);
	if (rc == -ENOENT) {
		chat_conversation_key(&k, "cn/", from, to);
		if ((rc = store_kv_get(txn, STORE_T_APP, k.data, k.len,
		    &v)) == 0) {
			/* Kept where it was before: move it. */
			if ((rc = store_kv_del(txn, STORE_T_APP, k.data,
			    k.len)) != 0)
				goto out;
		}
	}
	if (rc == 0 && (v.len == sizeof(b) ||
	    v.len == offsetof(struct chat_bounds, first_t)))
		memcpy(&b, v.data, v.len);
	else if (rc != 0 && rc != -ENOENT)
		goto out;
	b.last++;
	chat_message_key(&k, from, to, b.last);
	chat_message_encode(&v, content, now, strcmp(from, to) > 0);
	if ((rc = store_kv_put(txn, STORE_T_APP, k.data, k.len, v.data,
	    v.len)) != 0)
		goto out;
	if (b.first == b.last)
		b.first_t = now;

	if (chat_cfg.retention > 0)
		since = now - chat_cfg.retention;
	while (b.first <= b.last) {
		chat_message_key(&k, from, to, b.first);
		expired = b.last - b.first + 1 > chat_cfg.history;
		if (!expired && since != 0) {
			if (b.first_t == 0)
				b.first_t = chat_message_time(txn, &k);
			expired = b.first_t != 0 && b.first_t < since;
		}
		if (!expired)
			break;
		rc = store_kv_del(txn, STORE_T_APP, k.data, k.len);
		if (rc != 0 && rc != -ENOENT)
			goto out;
		b.first++;
		b.first_t = b.first == b.last ? now : 0;
	}
	chat_bounds_key(&k, from, to);
	rc = store_kv_put(txn, STORE_T_APP, k.data, k.len, &b, sizeof(b));
out:
	buf_clear(&k);
	buf_clear(&v);
	return (rc);
}

/* Connection. */

struct chat_users {
	struct eio_ctx		*ctx;
	const char		*me;
	struct json_object	*users;
	struct json_object	*expired;	/* session keys to drop */
	int64_t			 now;
};

static int
chat_users_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct chat_users	*u = arg;
	struct json_object	*s, *entry, *c, *seen;
	const char		*uid, *name;
	bool			 connected;

	if ((s = sio_json_parse(val, vlen)) == NULL)
		return (0);
	uid = chat_get_string(s, "userID");
	name = chat_get_string(s, "username");
	connected = json_object_object_get_ex(s, "connected", &c) &&
	    json_object_get_boolean(c);
	if (uid == NULL || name == NULL) {
		json_object_put(s);
		return (0);
	}
	/* A session unused for session_ttl goes; one in use never does. */
	if (!connected && chat_cfg.session_ttl > 0 &&
	    json_object_object_get_ex(s, "seen", &seen) &&
	    json_object_get_int64(seen) + chat_cfg.session_ttl < u->now &&
	    strcmp(uid, u->me) != 0) {
		json_object_array_add(u->expired,
		    json_object_new_string_len(key, (int)klen));
		json_object_array_add(u->expired, json_object_new_string(uid));
		json_object_put(s);
		return (0);
	}
	entry = json_object_new_object();
	json_object_object_add(entry, "userID", json_object_new_string(uid));
	json_object_object_add(entry, "username", json_object_new_string(name));
	json_object_object_add(entry, "connected",
	    json_object_new_boolean(connected));
	json_object_object_add(entry, "messages",
	    chat_conversation(u->ctx, u->me, uid));
	json_object_array_add(u->users, entry);
	json_object_put(s);
	return (0);
}

static void
chat_emit1(struct sio_socket *sock, const char *event, struct json_object *arg)
{
	struct json_object	*args;

	args = json_object_new_array();
	json_object_array_add(args, arg);
	if (sio_emit(sock, event, args, NULL) != 0)
		log_warnx("chat: emit %s failed", event);
	json_object_put(args);
}

/* To every socket of "/" but this one (socket.broadcast.emit). */
static void
chat_broadcast1(struct sio_socket *sock, const char *event,
    struct json_object *arg)
{
	struct sio_target	 t = { .nsp = "/" };
	struct json_object	*args;

	t.except_socket = sio_socket_id(sock);
	args = json_object_new_array();
	json_object_array_add(args, arg);
	if (sio_broadcast(sio_socket_ctx(sock), &t, event, args, NULL) < 0)
		log_warnx("chat: broadcast %s failed", event);
	json_object_put(args);
}

static void
chat_on_connection(void *arg, struct sio_socket *sock,
    struct json_object *auth)
{
	struct eio_ctx		*ctx = sio_socket_ctx(sock);
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct chat_users	 u;
	struct chat_who		 w;
	struct json_object	*o;
	struct buf		 k;
	size_t			 i;

	(void)arg;
	(void)auth;
	if (!chat_who(sock, &w)) {
		(void)sio_disconnect(sock, false);
		return;
	}
	/* 1. The session, connected. */
	if (chat_save_session(txn, w.session_id, w.user_id, w.username, true,
	    eio_ctx_now(ctx)) != 0)
		log_warnx("chat: cannot save a session");
	/* 2. Who the client is. */
	o = json_object_new_object();
	json_object_object_add(o, "sessionID",
	    json_object_new_string(w.session_id));
	json_object_object_add(o, "userID", json_object_new_string(w.user_id));
	chat_emit1(sock, "session", o);
	/* 3. Every tab and device of the user shares its room. */
	(void)sio_join(sock, w.user_id);
	/* 4. Every user, with this user's conversation with each. */
	memset(&u, 0, sizeof(u));
	u.ctx = ctx;
	u.me = w.user_id;
	u.users = json_object_new_array();
	u.expired = json_object_new_array();
	u.now = eio_ctx_now(ctx);
	(void)store_kv_scan(txn, STORE_T_APP, "cs/", 3, chat_users_fn, &u);
	buf_init(&k);
	for (i = 0; i + 1 < json_object_array_length(u.expired); i += 2) {
		struct json_object *sk = json_object_array_get_idx(u.expired,
		    i);

		(void)store_kv_del(txn, STORE_T_APP,
		    json_object_get_string(sk),
		    (size_t)json_object_get_string_len(sk));
		chat_key(&k, "cu/", json_object_get_string(
		    json_object_array_get_idx(u.expired, i + 1)), NULL);
		(void)store_kv_del(txn, STORE_T_APP, k.data, k.len);
	}
	buf_clear(&k);
	json_object_put(u.expired);
	chat_emit1(sock, "users", u.users);
	/* 5. Everyone else, this user's other tabs included. */
	o = json_object_new_object();
	json_object_object_add(o, "userID", json_object_new_string(w.user_id));
	json_object_object_add(o, "username",
	    json_object_new_string(w.username));
	json_object_object_add(o, "connected", json_object_new_boolean(1));
	json_object_object_add(o, "messages", json_object_new_array());
	chat_broadcast1(sock, "user connected", o);
	json_object_put(w.data);
}

static void
chat_refuse(struct sio_ack *ack, const char *why)
{
	struct json_object	*res, *e;

	log_debug("chat: private message refused: %s", why);
	if (ack == NULL)
		return;
	e = json_object_new_object();
	json_object_object_add(e, "error", json_object_new_string(why));
	res = json_object_new_array();
	json_object_array_add(res, e);
	(void)sio_ack(ack, res, NULL);
	json_object_put(res);
}

/*
 * "private message" {content, to}: to the recipient's room and the
 * sender's room, the sending socket excluded, each socket once; stored
 * once, also when the recipient is the sender.
 */
static void
chat_private_message(void *arg, struct sio_socket *sock,
    struct json_object *args, const struct sio_bins *bins,
    struct sio_ack *ack)
{
	struct eio_ctx		*ctx = sio_socket_ctx(sock);
	struct json_object	*in, *msg, *out, *res;
	struct sio_target	 t = { .nsp = "/" };
	struct chat_who		 w;
	const char		*content, *to, *rooms[2];
	struct buf		 k, v;
	size_t			 n;
	int			 rc;

	(void)arg;
	in = json_object_array_get_idx(args, 0);
	if (bins != NULL && bins->n > 0) {
		chat_refuse(ack, "binary data is not a message");
		return;
	}
	if (!json_object_is_type(in, json_type_object) ||
	    (content = chat_get_string(in, "content")) == NULL ||
	    *content == '\0') {
		chat_refuse(ack, "content must be a non-empty string");
		return;
	}
	if ((n = strlen(content)) > chat_cfg.max_content) {
		log_warnx("chat: a message of %zu bytes refused (limit %zu)",
		    n, chat_cfg.max_content);
		chat_refuse(ack, "content is too long");
		return;
	}
	if ((to = chat_get_string(in, "to")) == NULL ||
	    !chat_is_hex(to, 2 * CHAT_USER_BYTES)) {
		chat_refuse(ack, "unknown recipient");
		return;
	}
	buf_init(&k);
	buf_init(&v);
	chat_key(&k, "cu/", to, NULL);
	rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_APP, k.data, k.len, &v);
	buf_clear(&k);
	buf_clear(&v);
	if (rc != 0) {
		chat_refuse(ack, "unknown recipient");
		return;
	}
	if (!chat_who(sock, &w)) {
		chat_refuse(ack, "no session");
		return;
	}

	msg = json_object_new_object();
	json_object_object_add(msg, "content", json_object_new_string(content));
	json_object_object_add(msg, "from", json_object_new_string(w.user_id));
	json_object_object_add(msg, "to", json_object_new_string(to));
	out = json_object_new_array();
	json_object_array_add(out, json_object_get(msg));
	rooms[0] = to;
	rooms[1] = w.user_id;
	t.rooms = rooms;
	t.nrooms = 2;
	t.except_socket = sio_socket_id(sock);
	if (sio_broadcast(ctx, &t, "private message", out, NULL) < 0)
		log_warnx("chat: private message broadcast failed");
	json_object_put(out);
	json_object_put(msg);
	rc = chat_store_message(ctx, content, w.user_id, to,
	    eio_ctx_now(ctx));
	json_object_put(w.data);
	if (rc != 0) {
		log_warnx("chat: storing a message failed (%d)", rc);
		chat_refuse(ack, "message not stored");
		return;
	}
	if (ack != NULL) {
		res = json_object_new_array();
		sio_ack(ack, res, NULL);
		json_object_put(res);
	}
}

static int
chat_count_fn(void *arg, const char *sid)
{
	size_t	*n = arg;

	(void)sid;
	(*n)++;
	return (0);
}

/*
 * The user is gone when its room holds no socket but this one, in any
 * process; decided and announced in this transaction.
 */
static void
chat_on_disconnect(void *arg, struct sio_socket *sock, const char *reason)
{
	struct eio_ctx	*ctx = sio_socket_ctx(sock);
	struct chat_who	 w;
	size_t		 n = 0;

	(void)arg;
	(void)reason;
	if (!chat_who(sock, &w))
		return;
	(void)sio_room_each(ctx, "/", w.user_id, chat_count_fn, &n);
	if (n <= 1) {
		chat_broadcast1(sock, "user disconnected",
		    json_object_new_string(w.user_id));
		if (chat_save_session(eio_ctx_txn(ctx), w.session_id,
		    w.user_id, w.username, false, eio_ctx_now(ctx)) != 0)
			log_warnx("chat: cannot save a session");
	}
	json_object_put(w.data);
}

static const struct sio_event chat_events[] = {
	{ "private message", chat_private_message },
	{ NULL, NULL },
};

static const struct sio_namespace chat_table[] = {
	{
		.name = "/",
		.middleware = chat_middleware,
		.on_connection = chat_on_connection,
		.events = chat_events,
		.on_disconnect = chat_on_disconnect,
	},
	{ .name = NULL },
};

const struct sio_namespace *
chat_namespaces(const struct chat_config *cfg)
{
	if (cfg != NULL)
		chat_cfg = *cfg;
	if (chat_cfg.history == 0)
		chat_cfg.history = 1;
	return (chat_table);
}
