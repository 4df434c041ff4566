/*
 * sio-fcgi: the Socket.IO v5 server.
 *
 * State, all in the store (tables in store.h):
 *   SIO_SOCKETS    socket id -> struct sio_sock_rec, the namespace, data
 *   SIO_EIO        eio sid NUL nsp -> socket id (the session's sockets)
 *   SIO_ROOMS      nsp NUL room NUL socket id -> eio sid (room "" holds
 *                  every socket of the namespace)
 *   SIO_SOCKROOMS  socket id NUL room -> empty (to leave them all)
 *   SIO_ACKS       socket id NUL ack id (big-endian) -> tag
 *   SIO_PARTIAL    eio sid -> a binary packet waiting for attachments
 *   SIO_LOG        offset -> an event kept for connection state recovery
 *   SIO_RECOVERY   pid -> a socket lost abruptly, kept for recovery
 *   SIO_RECTIME    time, pid -> empty: the order in which they expire
 *   SIO_META       "offset" -> the last offset given out
 * A binary packet's attachments may come in later POSTs, served by other
 * processes, so the reassembly state is stored too.  With recovery on,
 * every event without an ack id gets the next offset as its last
 * argument and is logged once with its target (rooms, exclusions), as
 * the reference server's adapter does; a socket that comes back gets
 * the logged events after its offset whose target it was in.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sio.h"
#include "store.h"
#include "xmalloc.h"

#define SIO_ROOM_MAX		255
#define SIO_SOCK_VERSION	2
#define SIO_TRIM_BATCH		64	/* expired entries dropped per write */
#define SIO_TAG_MAX		63

struct sio {
	struct sio_config		 cfg;
	const struct sio_namespace	*namespaces;
	struct eio_handler		 handler;
	char				*path;
};

struct sio_socket {
	struct sio			*sio;
	struct eio_ctx			*ctx;
	const struct sio_namespace	*ns;
	char				 sid[EIO_ID_LEN + 1];
	char				 eio_sid[STORE_SID_MAX + 1];
	char				 nsp[SIO_NSP_MAX + 1];
	char				 pid[EIO_ID_LEN + 1];
	bool				 recovered;
};

struct sio_ack {
	struct sio_socket	*sock;
	uint64_t		 id;
	bool			 used;
};

/* The fixed part of a socket record; the namespace and data follow. */
struct sio_sock_rec {
	uint32_t	version;
	uint32_t	nsp_len;
	uint32_t	data_len;
	uint32_t	pad;
	uint64_t	next_ack;
	int64_t		connected;
	char		eio_sid[STORE_SID_MAX + 1];
	char		pid[EIO_ID_LEN + 1];	/* "" without recovery */
	char		pad2[2];
};

/* The fixed part of a log entry; meta JSON, text and parts follow. */
struct sio_log_hdr {
	int64_t		time;
	uint32_t	meta_len;
	uint32_t	text_len;
	uint32_t	nbins;
	uint32_t	pad;
};

/* The fixed part of a partial binary packet; text and parts follow. */
struct sio_partial {
	uint32_t	expected;
	uint32_t	received;
	uint32_t	text_len;
	uint32_t	pad;
};

/* A growable list of ids (socket ids, rooms) collected by a scan. */
struct sio_list {
	char	**v;
	size_t	  n;
	size_t	  size;
};

/* Add a copy of s[0..len) (binary safe, NUL-terminated). */
static void
sio_list_add(struct sio_list *l, const char *s, size_t len)
{
	char	*p;

	if (l->n == l->size) {
		l->size = l->size == 0 ? 16 : l->size * 2;
		l->v = xreallocarray(l->v, l->size, sizeof(*l->v));
	}
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	l->v[l->n++] = p;
}

static void
sio_list_clear(struct sio_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
sio_strcmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Sort and drop duplicates. */
static void
sio_list_uniq(struct sio_list *l)
{
	size_t	i, j;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), sio_strcmp);
	for (i = 1, j = 0; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j]) == 0)
			free(l->v[i]);
		else
			l->v[++j] = l->v[i];
	}
	l->n = j + 1;
}

static bool
sio_list_has(const struct sio_list *l, const char *s)
{
	return (l->n > 0 && bsearch(&s, l->v, l->n, sizeof(*l->v),
	    sio_strcmp) != NULL);
}

/* Keys. */

static void
sio_key2(struct buf *k, const char *a, const char *b)
{
	buf_reset(k);
	buf_append_str(k, a);
	buf_append_char(k, '\0');
	buf_append_str(k, b);
}

static void
sio_key3(struct buf *k, const char *a, const char *b, const char *c)
{
	sio_key2(k, a, b);
	buf_append_char(k, '\0');
	if (c != NULL)
		buf_append_str(k, c);
}

/*
 * What a thread looked up last, kept for the next packet: the messages of
 * a POST all come from one session, and mostly from one socket.
 *
 * The socket data: the chat reads the sender's data for every message it
 * handles, and parsing it each time was an eighth of the work of a
 * message (docs/design.md, "Writing JSON").  Kept with the bytes it was
 * parsed from, which are compared with the record each time the table
 * has changed, so that a change, whoever made it, is never missed.
 *
 * The socket of (session, namespace) and "no binary packet awaited" for
 * a session: kept with the stamp of their table (store_kv_stamp), so they
 * hold only within the transaction that read them and only until it
 * writes to that table.
 *
 * Per thread, so the objects (json-c counts references without atomics)
 * never leave the thread that made them.
 */
struct sio_tcache {
	struct buf		 bytes;
	struct json_object	*obj;
	uint64_t		 data_stamp;	/* of sio_sockets, for data_sid */
	char			 data_sid[EIO_ID_LEN + 1];

	uint64_t		 find_stamp;	/* of sio_eio */
	char			 find_eio[STORE_SID_MAX + 1];
	char			 find_nsp[SIO_NSP_MAX + 1];
	char			 find_sid[EIO_ID_LEN + 1];

	uint64_t		 partial_stamp;	/* of sio_partial: none */
	char			 partial_eio[STORE_SID_MAX + 1];
};

static pthread_key_t	sio_tcache_key;
static pthread_once_t	sio_tcache_once = PTHREAD_ONCE_INIT;

static void
sio_tcache_free(void *arg)
{
	struct sio_tcache	*c = arg;

	json_object_put(c->obj);
	buf_clear(&c->bytes);
	free(c);
}

static void
sio_tcache_key_create(void)
{
	if (pthread_key_create(&sio_tcache_key, sio_tcache_free) != 0)
		fatalx("sio: pthread_key_create failed");
}

static struct sio_tcache *
sio_tcache(void)
{
	struct sio_tcache	*c;

	pthread_once(&sio_tcache_once, sio_tcache_key_create);
	if ((c = pthread_getspecific(sio_tcache_key)) == NULL) {
		c = xcalloc(1, sizeof(*c));
		buf_init(&c->bytes);
		if (pthread_setspecific(sio_tcache_key, c) != 0)
			fatalx("sio: pthread_setspecific failed");
	}
	return (c);
}

/* Copy s into dst of size n, cut to fit (as snprintf "%s" would). */
static void
sio_copy(char *dst, size_t n, const char *s)
{
	size_t	len = strnlen(s, n - 1);

	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Copy s into dst of size n if it fits whole. */
static bool
sio_fits(char *dst, size_t n, const char *s)
{
	size_t	len = strlen(s);

	if (len >= n)
		return (false);
	memcpy(dst, s, len + 1);
	return (true);
}

/* Namespaces and records. */

static const struct sio_namespace *
sio_namespace_find(const struct sio *sio, const char *nsp)
{
	const struct sio_namespace	*ns;

	for (ns = sio->namespaces; ns->name != NULL; ns++) {
		if (strcmp(ns->name, nsp) == 0)
			return (ns);
	}
	return (NULL);
}

/* Find the socket of eio_sid in nsp; fills sock.  -ENOENT if none. */
static int
sio_socket_find(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    const char *nsp, struct sio_socket *sock)
{
	struct sio_tcache	*c = sio_tcache();
	struct buf		 k, v;
	const char		*id;
	uint64_t		 stamp;
	int			 rc;

	buf_init(&k);
	buf_init(&v);
	stamp = store_kv_stamp(eio_ctx_txn(ctx), STORE_T_SIO_EIO);
	if (c->find_stamp == stamp && strcmp(c->find_eio, eio_sid) == 0 &&
	    strcmp(c->find_nsp, nsp) == 0) {
		rc = 0;
		id = c->find_sid;
	} else {
		sio_key2(&k, eio_sid, nsp);
		rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_SIO_EIO, k.data,
		    k.len, &v);
		id = buf_str(&v);
		c->find_stamp = 0;
		if (rc == 0 && sio_fits(c->find_eio, sizeof(c->find_eio),
		    eio_sid) && sio_fits(c->find_nsp, sizeof(c->find_nsp),
		    nsp) && sio_fits(c->find_sid, sizeof(c->find_sid), id))
			c->find_stamp = stamp;
	}
	if (rc == 0) {
		memset(sock, 0, sizeof(*sock));
		sock->sio = sio;
		sock->ctx = ctx;
		sock->ns = sio_namespace_find(sio, nsp);
		sio_copy(sock->sid, sizeof(sock->sid), id);
		sio_copy(sock->eio_sid, sizeof(sock->eio_sid), eio_sid);
		sio_copy(sock->nsp, sizeof(sock->nsp), nsp);
		if (sock->ns == NULL)
			rc = -ENOENT;
	}
	buf_clear(&k);
	buf_clear(&v);
	return (rc);
}

static int
sio_rec_get(struct sio_socket *sock, struct sio_sock_rec *rec,
    struct buf *data)
{
	struct buf	v;
	int		rc;

	buf_init(&v);
	rc = store_kv_get(eio_ctx_txn(sock->ctx), STORE_T_SIO_SOCKETS,
	    sock->sid, strlen(sock->sid), &v);
	if (rc == 0 && v.len < sizeof(*rec))
		rc = -EIO;
	if (rc == 0) {
		memcpy(rec, v.data, sizeof(*rec));
		if (rec->version != SIO_SOCK_VERSION ||
		    sizeof(*rec) + rec->nsp_len + rec->data_len != v.len)
			rc = -EIO;
	}
	if (rc == 0 && data != NULL) {
		buf_reset(data);
		buf_append(data, v.data + sizeof(*rec) + rec->nsp_len,
		    rec->data_len);
	}
	buf_clear(&v);
	return (rc);
}

static int
sio_rec_put(struct sio_socket *sock, struct sio_sock_rec *rec,
    const char *data, size_t dlen)
{
	struct buf	v;
	int		rc;

	rec->version = SIO_SOCK_VERSION;
	rec->nsp_len = (uint32_t)strlen(sock->nsp);
	rec->data_len = (uint32_t)dlen;
	buf_init(&v);
	buf_append(&v, rec, sizeof(*rec));
	buf_append(&v, sock->nsp, rec->nsp_len);
	buf_append(&v, data, dlen);
	rc = store_kv_put(eio_ctx_txn(sock->ctx), STORE_T_SIO_SOCKETS,
	    sock->sid, strlen(sock->sid), v.data, v.len);
	buf_clear(&v);
	return (rc);
}

/* Encoding and sending. */

/* Attachments in the order an outgoing packet refers to them. */
struct sio_outbins {
	struct sio_bin	v[SIO_ATTACHMENTS_CAP];
	struct sio_bins	b;
};

/*
 * Number the placeholders of obj 0, 1, ... in depth-first order, as the
 * reference encoder does, and list the attachments in that order.
 */
static int
sio_bins_order(struct json_object *obj, const struct sio_bins *in,
    struct sio_outbins *ob, int depth)
{
	struct json_object	*num;
	size_t			 i, n, k;

	if (depth > SIO_JSON_DEPTH_CAP)
		return (-EINVAL);
	if (sio_placeholder_is(obj, &k)) {
		/*
		 * No more than a receiver with our limit decodes (a placeholder
		 * may name one attachment twice, each a packet of its own).
		 */
		if (k >= in->n || ob->b.n == sio_packet_max_attachments())
			return (-EINVAL);
		ob->v[ob->b.n] = in->v[k];
		num = json_object_new_int64((int64_t)ob->b.n);
		json_object_object_add(obj, "num", num);
		ob->b.n++;
		return (0);
	}
	if (json_object_is_type(obj, json_type_array)) {
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++) {
			if (sio_bins_order(json_object_array_get_idx(obj, i),
			    in, ob, depth + 1) != 0)
				return (-EINVAL);
		}
	} else if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			(void)key;
			if (sio_bins_order(val, in, ob, depth + 1) != 0)
				return (-EINVAL);
		}
	}
	return (0);
}

/*
 * Encode an EVENT ([event, ...args, offset]) or, with event NULL, an ACK
 * ([...args]) into out; binary when args refer to attachments, which
 * ob then lists in wire order (renumbered on a copy: args are borrowed).
 */
static int
sio_encode(struct buf *out, const char *nsp, bool has_id, uint64_t id,
    const char *event, struct json_object *args,
    const struct sio_bins *bins, const char *offset,
    struct sio_outbins *ob)
{
	struct sio_packet	 p;
	struct json_object	*copy = NULL;
	size_t			 i, n;
	int			 rc = 0;

	sio_packet_init(&p);
	snprintf(p.nsp, sizeof(p.nsp), "%s", nsp);
	p.has_id = has_id;
	p.id = id;
	p.data = json_object_new_array();
	if (event != NULL)
		json_object_array_add(p.data, json_object_new_string(event));
	n = args != NULL ? json_object_array_length(args) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(p.data,
		    json_object_get(json_object_array_get_idx(args, i)));
	if (offset != NULL)
		json_object_array_add(p.data, json_object_new_string(offset));
	ob->b.v = ob->v;
	ob->b.n = 0;
	if (bins != NULL && bins->n > 0) {
		if (json_object_deep_copy(p.data, &copy, NULL) != 0)
			fatalx("sio: json_object_deep_copy failed");
		json_object_put(p.data);
		p.data = copy;
		rc = sio_bins_order(p.data, bins, ob, 0);
	}
	if (event != NULL)
		p.type = ob->b.n > 0 ? SIO_PKT_BINARY_EVENT : SIO_PKT_EVENT;
	else
		p.type = ob->b.n > 0 ? SIO_PKT_BINARY_ACK : SIO_PKT_ACK;
	p.attachments = ob->b.n;
	if (rc == 0)
		sio_packet_encode(&p, out);
	sio_packet_clear(&p);
	return (rc);
}

/* Queue an encoded packet and its attachments for one eio session. */
static int
sio_send_encoded(struct eio_ctx *ctx, const char *eio_sid,
    const struct buf *text, const struct sio_bins *bins)
{
	size_t	i;
	int	rc;

	if ((rc = eio_send(ctx, eio_sid, false, text->data, text->len)) != 0)
		return (rc);
	for (i = 0; bins != NULL && i < bins->n; i++) {
		if ((rc = eio_send(ctx, eio_sid, true, bins->v[i].data,
		    bins->v[i].len)) != 0)
			return (rc);
	}
	return (0);
}

/* Send a packet without JSON arguments (CONNECT reply, DISCONNECT...). */
static int
sio_send_packet(struct eio_ctx *ctx, const char *eio_sid,
    enum sio_pkt_type type, const char *nsp, struct json_object *data)
{
	struct sio_packet	p;
	struct buf		out;
	int			rc;

	sio_packet_init(&p);
	p.type = type;
	snprintf(p.nsp, sizeof(p.nsp), "%s", nsp);
	p.data = data;		/* borrowed: not cleared below */
	buf_init(&out);
	sio_packet_encode(&p, &out);
	rc = eio_send(ctx, eio_sid, false, out.data, out.len);
	buf_clear(&out);
	return (rc);
}

/* Recovery: the log of events, and offsets. */

static void
sio_be64(char *be, uint64_t n)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		be[i] = (char)(n & 0xff);
		n >>= 8;
	}
}

static int
sio_offset_next(struct eio_ctx *ctx, uint64_t *n)
{
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct buf		 v;
	int			 rc;

	*n = 0;
	buf_init(&v);
	rc = store_kv_get(txn, STORE_T_SIO_META, "offset", 6, &v);
	if (rc == 0 && v.len == sizeof(*n))
		memcpy(n, v.data, sizeof(*n));
	buf_clear(&v);
	if (rc != 0 && rc != -ENOENT)
		return (rc);
	(*n)++;
	return (store_kv_put(txn, STORE_T_SIO_META, "offset", 6, n,
	    sizeof(*n)));
}

/* Drop the oldest entries of a time-ordered table past the window. */
struct sio_expired {
	struct sio_list	keys;
	int64_t		before;
	bool		by_key;		/* time is the key's first 8 bytes */
};

static int
sio_expired_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct sio_expired	*x = arg;
	struct sio_log_hdr	 hdr;
	const unsigned char	*k = key;
	int64_t			 t = 0;
	size_t			 i;

	if (x->by_key) {
		for (i = 0; i < 8 && i < klen; i++)
			t = (t << 8) | k[i];
	} else {
		if (vlen < sizeof(hdr))
			return (1);
		memcpy(&hdr, val, sizeof(hdr));
		t = hdr.time;
	}
	if (t >= x->before || x->keys.n >= SIO_TRIM_BATCH)
		return (1);
	sio_list_add(&x->keys, key, klen);
	return (0);
}

static int
sio_trim_expired(struct sio *sio, struct eio_ctx *ctx, enum store_table tb)
{
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct sio_expired	 x;
	size_t			 i;
	int			 rc;

	memset(&x, 0, sizeof(x));
	x.before = eio_ctx_now(ctx) - sio->cfg.recovery;
	x.by_key = tb == STORE_T_SIO_RECTIME;
	/* Log keys are 8 bytes; time-index keys 8 bytes and a pid. */
	rc = store_kv_scan(txn, tb, NULL, 0, sio_expired_fn, &x);
	for (i = 0; rc == 0 && i < x.keys.n; i++) {
		size_t len = tb == STORE_T_SIO_LOG ? 8 :
		    8 + strlen(x.keys.v[i] + 8);
		if (tb == STORE_T_SIO_RECTIME)
			(void)store_kv_del(txn, STORE_T_SIO_RECOVERY,
			    x.keys.v[i] + 8, strlen(x.keys.v[i] + 8));
		rc = store_kv_del(txn, tb, x.keys.v[i], len);
		if (rc == -ENOENT)
			rc = 0;
	}
	sio_list_clear(&x.keys);
	return (rc);
}

/*
 * Encode an event for target.  With recovery on, it gets the next
 * offset as its last argument and is logged with its target.
 */
static int
sio_encode_logged(struct eio_ctx *ctx, const struct sio_target *t,
    const char *event, struct json_object *args,
    const struct sio_bins *in, struct buf *out, struct sio_outbins *ob)
{
	const struct sio_bins	*bins = &ob->b;
	struct sio		*sio = eio_ctx_handler_arg(ctx);
	struct sio_log_hdr	 hdr;
	struct json_object	*meta, *a;
	struct buf		 v, m;
	uint64_t		 n;
	size_t			 i;
	char			 offset[17], be[8];
	int			 rc;

	if (sio == NULL || sio->cfg.recovery <= 0)
		return (sio_encode(out, t->nsp, false, 0, event, args, in,
		    NULL, ob));
	if ((rc = sio_offset_next(ctx, &n)) != 0)
		return (rc);
	snprintf(offset, sizeof(offset), "%016llx", (unsigned long long)n);
	if ((rc = sio_encode(out, t->nsp, false, 0, event, args, in, offset,
	    ob)) != 0)
		return (rc);

	meta = json_object_new_object();
	json_object_object_add(meta, "n", json_object_new_string(t->nsp));
	a = json_object_new_array();
	for (i = 0; i < t->nrooms; i++)
		json_object_array_add(a, json_object_new_string(t->rooms[i]));
	json_object_object_add(meta, "r", a);
	a = json_object_new_array();
	for (i = 0; i < t->nexcept; i++)
		json_object_array_add(a, json_object_new_string(t->except[i]));
	json_object_object_add(meta, "x", a);
	if (t->except_socket != NULL)
		json_object_object_add(meta, "s",
		    json_object_new_string(t->except_socket));
	buf_init(&m);
	sio_json_encode(meta, &m);
	json_object_put(meta);

	memset(&hdr, 0, sizeof(hdr));
	hdr.time = eio_ctx_now(ctx);
	hdr.meta_len = (uint32_t)m.len;
	hdr.text_len = (uint32_t)out->len;
	hdr.nbins = (uint32_t)bins->n;
	buf_init(&v);
	buf_append(&v, &hdr, sizeof(hdr));
	buf_append(&v, m.data, m.len);
	buf_append(&v, out->data, out->len);
	for (i = 0; i < hdr.nbins; i++) {
		uint32_t len = (uint32_t)bins->v[i].len;

		buf_append(&v, &len, sizeof(len));
		buf_append(&v, bins->v[i].data, len);
	}
	sio_be64(be, n);
	rc = store_kv_put(eio_ctx_txn(ctx), STORE_T_SIO_LOG, be, sizeof(be),
	    v.data, v.len);
	buf_clear(&v);
	buf_clear(&m);
	if (rc == 0)
		rc = sio_trim_expired(sio, ctx, STORE_T_SIO_LOG);
	return (rc);
}

int
sio_emit(struct sio_socket *sock, const char *event, struct json_object *args,
    const struct sio_bins *bins)
{
	struct sio_target	 t;
	struct sio_outbins	 ob;
	const char		*room = sock->sid;
	struct buf		 out;
	int			 rc;

	memset(&t, 0, sizeof(t));
	t.nsp = sock->nsp;
	t.rooms = &room;
	t.nrooms = 1;
	buf_init(&out);
	rc = sio_encode_logged(sock->ctx, &t, event, args, bins, &out, &ob);
	if (rc == 0)
		rc = sio_send_encoded(sock->ctx, sock->eio_sid, &out, &ob.b);
	buf_clear(&out);
	return (rc);
}

int
sio_emit_ack(struct sio_socket *sock, const char *event,
    struct json_object *args, const struct sio_bins *bins, const char *tag)
{
	struct sio_sock_rec	 rec;
	struct sio_outbins	 ob;
	struct buf		 data, out, k;
	uint64_t		 id;
	char			 be[8];
	int			 rc, i;

	if (tag == NULL || strlen(tag) > SIO_TAG_MAX)
		return (-EINVAL);
	buf_init(&data);
	buf_init(&out);
	buf_init(&k);
	if ((rc = sio_rec_get(sock, &rec, &data)) != 0)
		goto out;
	id = rec.next_ack++;
	if ((rc = sio_rec_put(sock, &rec, data.data, data.len)) != 0)
		goto out;
	for (i = 7; i >= 0; i--) {
		be[i] = (char)(id >> (8 * (7 - i)));
	}
	buf_append_str(&k, sock->sid);
	buf_append_char(&k, '\0');
	buf_append(&k, be, sizeof(be));
	if ((rc = store_kv_put(eio_ctx_txn(sock->ctx), STORE_T_SIO_ACKS,
	    k.data, k.len, tag, strlen(tag))) != 0)
		goto out;
	if ((rc = sio_encode(&out, sock->nsp, true, id, event, args, bins,
	    NULL, &ob)) == 0)
		rc = sio_send_encoded(sock->ctx, sock->eio_sid, &out, &ob.b);
out:
	buf_clear(&data);
	buf_clear(&out);
	buf_clear(&k);
	return (rc);
}

int
sio_ack(struct sio_ack *ack, struct json_object *results,
    const struct sio_bins *bins)
{
	struct sio_outbins	 ob;
	struct buf		 out;
	int			 rc;

	if (ack == NULL || ack->used)
		return (-EINVAL);
	ack->used = true;
	buf_init(&out);
	rc = sio_encode(&out, ack->sock->nsp, true, ack->id, NULL, results,
	    bins, NULL, &ob);
	if (rc == 0)
		rc = sio_send_encoded(ack->sock->ctx, ack->sock->eio_sid, &out,
		    &ob.b);
	buf_clear(&out);
	return (rc);
}

/* Rooms. */

static int
sio_join_internal(struct sio_socket *sock, const char *room)
{
	struct store_txn	*txn = eio_ctx_txn(sock->ctx);
	struct buf		 k;
	int			 rc;

	buf_init(&k);
	sio_key3(&k, sock->nsp, room, sock->sid);
	rc = store_kv_put(txn, STORE_T_SIO_ROOMS, k.data, k.len,
	    sock->eio_sid, strlen(sock->eio_sid));
	if (rc == 0) {
		sio_key2(&k, sock->sid, room);
		rc = store_kv_put(txn, STORE_T_SIO_SOCKROOMS, k.data, k.len,
		    "", 0);
	}
	buf_clear(&k);
	return (rc);
}

static int
sio_leave_internal(struct sio_socket *sock, const char *room)
{
	struct store_txn	*txn = eio_ctx_txn(sock->ctx);
	struct buf		 k;
	int			 rc;

	buf_init(&k);
	sio_key3(&k, sock->nsp, room, sock->sid);
	rc = store_kv_del(txn, STORE_T_SIO_ROOMS, k.data, k.len);
	if (rc == 0 || rc == -ENOENT) {
		sio_key2(&k, sock->sid, room);
		rc = store_kv_del(txn, STORE_T_SIO_SOCKROOMS, k.data, k.len);
		if (rc == -ENOENT)
			rc = 0;
	}
	buf_clear(&k);
	return (rc);
}

static bool
sio_room_is_valid(const char *room)
{
	return (room != NULL && *room != '\0' &&
	    strlen(room) <= SIO_ROOM_MAX);
}

int
sio_join(struct sio_socket *sock, const char *room)
{
	if (!sio_room_is_valid(room))
		return (-EINVAL);
	return (sio_join_internal(sock, room));
}

int
sio_leave(struct sio_socket *sock, const char *room)
{
	if (!sio_room_is_valid(room))
		return (-EINVAL);
	return (sio_leave_internal(sock, room));
}

/* Collect the suffix after the scanned prefix (a socket id or a room). */
struct sio_collect {
	struct sio_list	*list;
	size_t		 plen;
	struct sio_list	*values;	/* NULL, or the values too */
};

static int
sio_collect_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct sio_collect	*c = arg;

	sio_list_add(c->list, (const char *)key + c->plen, klen - c->plen);
	if (c->values != NULL)
		sio_list_add(c->values, val, vlen);
	return (0);
}

static int
sio_scan(struct eio_ctx *ctx, enum store_table tb, const struct buf *prefix,
    struct sio_list *list, struct sio_list *values)
{
	struct sio_collect	c = { list, prefix->len, values };

	return (store_kv_scan(eio_ctx_txn(ctx), tb, prefix->data, prefix->len,
	    sio_collect_fn, &c));
}

/* The members of room in nsp ("" = everyone), as socket ids. */
static int
sio_room_members(struct eio_ctx *ctx, const char *nsp, const char *room,
    struct sio_list *ids, struct sio_list *eio_sids)
{
	struct buf	p;
	int		rc;

	buf_init(&p);
	sio_key3(&p, nsp, room, NULL);
	rc = sio_scan(ctx, STORE_T_SIO_ROOMS, &p, ids, eio_sids);
	buf_clear(&p);
	return (rc);
}

int
sio_room_each(struct eio_ctx *ctx, const char *nsp,
    const char *room, int (*fn)(void *, const char *), void *arg)
{
	struct sio_list	ids = { 0 };
	size_t		i;
	int		rc;

	rc = sio_room_members(ctx, nsp, room != NULL ? room : "", &ids, NULL);
	for (i = 0; rc == 0 && i < ids.n; i++) {
		if (fn(arg, ids.v[i]) != 0)
			break;
	}
	sio_list_clear(&ids);
	return (rc);
}

int
sio_broadcast(struct eio_ctx *ctx, const struct sio_target *t,
    const char *event, struct json_object *args,
    const struct sio_bins *bins)
{
	struct sio_list	 ids = { 0 }, eios = { 0 }, ex = { 0 }, unused = { 0 };
	struct sio_outbins ob;
	struct buf	 out;
	size_t		 i, j, n;
	int		 rc = 0, sent = 0;
	char		**order;

	if (t->nrooms == 0)
		rc = sio_room_members(ctx, t->nsp, "", &ids, &eios);
	for (i = 0; rc == 0 && i < t->nrooms; i++)
		rc = sio_room_members(ctx, t->nsp, t->rooms[i], &ids, &eios);
	for (i = 0; rc == 0 && i < t->nexcept; i++)
		rc = sio_room_members(ctx, t->nsp, t->except[i], &ex, &unused);
	if (rc != 0)
		goto out;
	if (t->except_socket != NULL)
		sio_list_add(&ex, t->except_socket, strlen(t->except_socket));
	sio_list_uniq(&ex);

	/* Pair each id with its eio sid, then sort by id to drop repeats. */
	n = ids.n;
	order = xreallocarray(NULL, n + 1, 2 * sizeof(char *));
	for (i = 0; i < n; i++) {
		order[2 * i] = ids.v[i];
		order[2 * i + 1] = eios.v[i];
	}
	qsort(order, n, 2 * sizeof(char *), sio_strcmp);

	buf_init(&out);
	if ((rc = sio_encode_logged(ctx, t, event, args, bins, &out,
	    &ob)) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		j = 2 * i;
		if (i > 0 && strcmp(order[j], order[j - 2]) == 0)
			continue;
		if (sio_list_has(&ex, order[j]))
			continue;
		rc = sio_send_encoded(ctx, order[j + 1], &out, &ob.b);
		if (rc == -ENOENT)
			continue;	/* its session is closing */
		if (rc != 0)
			break;
		sent++;
	}
	buf_clear(&out);
	free(order);
out:
	sio_list_clear(&ids);
	sio_list_clear(&eios);
	sio_list_clear(&ex);
	sio_list_clear(&unused);
	return (rc != 0 ? rc : sent);
}

/* Socket data. */

struct json_object *
sio_socket_data(struct sio_socket *sock)
{
	struct sio_sock_rec	 rec;
	struct sio_tcache	*c;
	struct json_object	*obj = NULL;
	struct buf		 data;
	uint64_t		 stamp;

	c = sio_tcache();
	stamp = store_kv_stamp(eio_ctx_txn(sock->ctx), STORE_T_SIO_SOCKETS);
	if (c->obj != NULL && c->data_stamp == stamp &&
	    strcmp(c->data_sid, sock->sid) == 0)
		return (json_object_get(c->obj));
	buf_init(&data);
	if (sio_rec_get(sock, &rec, &data) != 0 || data.len == 0) {
		buf_clear(&data);
		return (NULL);
	}
	if (c->obj == NULL || c->bytes.len != data.len ||
	    memcmp(c->bytes.data, data.data, data.len) != 0) {
		if ((obj = sio_json_parse(data.data, data.len)) == NULL) {
			buf_clear(&data);
			return (NULL);
		}
		json_object_put(c->obj);
		c->obj = obj;
		buf_reset(&c->bytes);
		buf_append(&c->bytes, data.data, data.len);
	}
	c->data_stamp = sio_fits(c->data_sid, sizeof(c->data_sid),
	    sock->sid) ? stamp : 0;
	buf_clear(&data);
	return (json_object_get(c->obj));
}

int
sio_socket_set_data(struct sio_socket *sock, struct json_object *obj)
{
	struct sio_sock_rec	 rec;
	struct buf		 data;
	int			 rc;

	buf_init(&data);
	if ((rc = sio_rec_get(sock, &rec, NULL)) == 0) {
		if (obj != NULL)
			sio_json_encode(obj, &data);
		rc = sio_rec_put(sock, &rec, data.data, data.len);
	}
	buf_clear(&data);
	return (rc);
}

/* Accessors. */

const char *
sio_socket_id(const struct sio_socket *sock)
{
	return (sock->sid);
}

const char *
sio_socket_nsp(const struct sio_socket *sock)
{
	return (sock->nsp);
}

const char *
sio_socket_eio_sid(const struct sio_socket *sock)
{
	return (sock->eio_sid);
}

struct eio_ctx *
sio_socket_ctx(const struct sio_socket *sock)
{
	return (sock->ctx);
}

bool
sio_socket_recovered(const struct sio_socket *sock)
{
	return (sock->recovered);
}

/* Connecting and disconnecting. */

/*
 * Remove a socket for good: its handler first (it may still emit to the
 * others), then its rooms, pending acks and records.
 */
/* The reasons after which a socket may come back (socket.io 4.8). */
static bool
sio_reason_is_recoverable(const char *reason)
{
	static const char *const reasons[] = {
		"transport error", "transport close", "forced close",
		"ping timeout", "server shutting down", "forced server close",
	};
	size_t	i;

	for (i = 0; i < nitems(reasons); i++) {
		if (strcmp(reason, reasons[i]) == 0)
			return (true);
	}
	return (false);
}

/*
 * Keep what a lost socket needs to come back: id, namespace, rooms and
 * data, under its pid, until the recovery window passes.
 */
static int
sio_socket_persist(struct sio *sio, struct sio_socket *sock,
    const struct sio_list *rooms)
{
	struct store_txn	*txn = eio_ctx_txn(sock->ctx);
	struct sio_sock_rec	 rec;
	struct json_object	*o, *a, *d = NULL;
	struct buf		 data, v, k;
	size_t			 i;
	char			 be[8];
	int			 rc;

	buf_init(&data);
	if ((rc = sio_rec_get(sock, &rec, &data)) != 0 || rec.pid[0] == '\0') {
		buf_clear(&data);
		return (rc);
	}
	if (data.len > 0)
		d = sio_json_parse(data.data, data.len);
	o = json_object_new_object();
	json_object_object_add(o, "sid", json_object_new_string(sock->sid));
	json_object_object_add(o, "nsp", json_object_new_string(sock->nsp));
	json_object_object_add(o, "t",
	    json_object_new_int64(eio_ctx_now(sock->ctx)));
	a = json_object_new_array();
	for (i = 0; i < rooms->n; i++)
		json_object_array_add(a, json_object_new_string(rooms->v[i]));
	json_object_object_add(o, "rooms", a);
	if (d != NULL)
		json_object_object_add(o, "data", d);
	buf_init(&v);
	sio_json_encode(o, &v);
	json_object_put(o);
	rc = store_kv_put(txn, STORE_T_SIO_RECOVERY, rec.pid,
	    strlen(rec.pid), v.data, v.len);
	buf_init(&k);
	sio_be64(be, (uint64_t)eio_ctx_now(sock->ctx));
	buf_append(&k, be, sizeof(be));
	buf_append_str(&k, rec.pid);
	if (rc == 0)
		rc = store_kv_put(txn, STORE_T_SIO_RECTIME, k.data, k.len,
		    "", 0);
	if (rc == 0)
		rc = sio_trim_expired(sio, sock->ctx, STORE_T_SIO_RECTIME);
	buf_clear(&k);
	buf_clear(&v);
	buf_clear(&data);
	return (rc);
}

static int
sio_socket_remove(struct sio_socket *sock, const char *reason)
{
	struct store_txn	*txn = eio_ctx_txn(sock->ctx);
	struct sio_list		 rooms = { 0 }, acks = { 0 };
	struct buf		 k;
	size_t			 i;
	int			 rc;

	log_debug("sio: socket %s of %s left %s: %s", sock->sid,
	    sock->eio_sid, sock->nsp, reason);
	if (sock->ns != NULL && sock->ns->on_disconnect != NULL)
		sock->ns->on_disconnect(sock->ns->arg, sock, reason);

	buf_init(&k);
	buf_append_str(&k, sock->sid);	/* the prefix "sid\0" */
	buf_append_char(&k, '\0');
	rc = sio_scan(sock->ctx, STORE_T_SIO_SOCKROOMS, &k, &rooms, NULL);
	if (rc == 0 && sock->sio->cfg.recovery > 0 &&
	    sio_reason_is_recoverable(reason))
		rc = sio_socket_persist(sock->sio, sock, &rooms);
	for (i = 0; rc == 0 && i < rooms.n; i++)
		rc = sio_leave_internal(sock, rooms.v[i]);
	if (rc == 0)
		rc = sio_scan(sock->ctx, STORE_T_SIO_ACKS, &k, &acks, NULL);
	for (i = 0; rc == 0 && i < acks.n; i++) {
		struct buf	ak;

		buf_init(&ak);
		buf_append(&ak, k.data, k.len);
		buf_append(&ak, acks.v[i], 8);
		rc = store_kv_del(txn, STORE_T_SIO_ACKS, ak.data, ak.len);
		buf_clear(&ak);
	}
	if (rc == 0) {
		sio_key2(&k, sock->eio_sid, sock->nsp);
		rc = store_kv_del(txn, STORE_T_SIO_EIO, k.data, k.len);
		if (rc == 0 || rc == -ENOENT)
			rc = store_kv_del(txn, STORE_T_SIO_SOCKETS, sock->sid,
			    strlen(sock->sid));
		if (rc == -ENOENT)
			rc = 0;
	}
	buf_clear(&k);
	sio_list_clear(&rooms);
	sio_list_clear(&acks);
	return (rc);
}

/* The namespaces an Engine.IO session has joined. */
static int
sio_session_namespaces(struct eio_ctx *ctx, const char *eio_sid,
    struct sio_list *nsps)
{
	struct buf	p;
	int		rc;

	buf_init(&p);
	buf_append_str(&p, eio_sid);
	buf_append_char(&p, '\0');
	rc = sio_scan(ctx, STORE_T_SIO_EIO, &p, nsps, NULL);
	buf_clear(&p);
	return (rc);
}

int
sio_disconnect(struct sio_socket *sock, bool close)
{
	struct sio_list		 nsps = { 0 };
	struct sio_socket	 other;
	size_t			 i;
	int			 rc;

	if ((rc = sio_send_packet(sock->ctx, sock->eio_sid,
	    SIO_PKT_DISCONNECT, sock->nsp, NULL)) != 0)
		return (rc);
	if ((rc = sio_socket_remove(sock,
	    "server namespace disconnect")) != 0 || !close)
		return (rc);
	rc = sio_session_namespaces(sock->ctx, sock->eio_sid, &nsps);
	for (i = 0; rc == 0 && i < nsps.n; i++) {
		if (sio_socket_find(sock->sio, sock->ctx, sock->eio_sid,
		    nsps.v[i], &other) != 0)
			continue;
		rc = sio_send_packet(sock->ctx, sock->eio_sid,
		    SIO_PKT_DISCONNECT, other.nsp, NULL);
		if (rc == 0)
			rc = sio_socket_remove(&other,
			    "server namespace disconnect");
	}
	sio_list_clear(&nsps);
	if (rc == 0)
		rc = eio_close(sock->ctx, sock->eio_sid, true,
		    "forced server close");
	return (rc);
}

/* A protocol error: the whole Engine.IO session closes gracefully. */
static int
sio_protocol_error(struct eio_ctx *ctx, const char *eio_sid,
    const char *cause)
{
	/* Limits (JSON depth, attachments) end here too: say which. */
	log_warnx("sio: a packet was refused (%s): session closed", cause);
	log_debug("sio: sid=%s: %s", eio_sid, cause);
	return (eio_close(ctx, eio_sid, true, "parse error"));
}

static int
sio_refuse(struct eio_ctx *ctx, const char *eio_sid, const char *nsp,
    const char *message, struct json_object *data)
{
	struct json_object	*err;
	int			 rc;

	err = json_object_new_object();
	json_object_object_add(err, "message",
	    json_object_new_string(message));
	if (data != NULL)
		json_object_object_add(err, "data", data);
	rc = sio_send_packet(ctx, eio_sid, SIO_PKT_CONNECT_ERROR, nsp, err);
	json_object_put(err);
	return (rc);
}

/*
 * Make the records of a socket: rec, the session's entry, the room of
 * everyone and its own room.
 */
static int
sio_socket_create(struct sio_socket *sock, const char *data, size_t dlen)
{
	struct sio_sock_rec	rec;
	struct buf		k;
	int			rc;

	memset(&rec, 0, sizeof(rec));
	rec.connected = eio_ctx_now(sock->ctx);
	snprintf(rec.eio_sid, sizeof(rec.eio_sid), "%s", sock->eio_sid);
	snprintf(rec.pid, sizeof(rec.pid), "%s", sock->pid);
	buf_init(&k);
	sio_key2(&k, sock->eio_sid, sock->nsp);
	if ((rc = sio_rec_put(sock, &rec, data, dlen)) == 0 &&
	    (rc = store_kv_put(eio_ctx_txn(sock->ctx), STORE_T_SIO_EIO,
	    k.data, k.len, sock->sid, strlen(sock->sid))) == 0 &&
	    (rc = sio_join_internal(sock, "")) == 0)
		rc = sio_join_internal(sock, sock->sid);
	buf_clear(&k);
	return (rc);
}

/* Answer the CONNECT, cancel connectTimeout, run on_connection. */
static int
sio_connected(struct sio_socket *sock, struct json_object *auth)
{
	struct json_object	*reply;
	int			 rc;

	reply = json_object_new_object();
	json_object_object_add(reply, "sid", json_object_new_string(sock->sid));
	if (sock->pid[0] != '\0')
		json_object_object_add(reply, "pid",
		    json_object_new_string(sock->pid));
	rc = sio_send_packet(sock->ctx, sock->eio_sid, SIO_PKT_CONNECT,
	    sock->nsp, reply);
	json_object_put(reply);
	/* Joining any namespace cancels connectTimeout for good. */
	if (rc == 0)
		rc = eio_set_timer(sock->ctx, 0);
	log_debug("sio: sid=%s joined %s as %s%s", sock->eio_sid, sock->nsp,
	    sock->sid, sock->recovered ? " (recovered)" : "");
	if (rc == 0 && sock->ns->on_connection != NULL)
		sock->ns->on_connection(sock->ns->arg, sock, auth);
	return (rc);
}

/* Is a logged event for this socket, given its rooms? */
static bool
sio_log_targets(struct json_object *meta, const char *nsp, const char *sid,
    const struct sio_list *rooms)
{
	struct json_object	*v, *a;
	size_t			 i, n;
	bool			 in = false;

	if (!json_object_object_get_ex(meta, "n", &v) ||
	    strcmp(json_object_get_string(v), nsp) != 0)
		return (false);
	if (json_object_object_get_ex(meta, "s", &v) &&
	    strcmp(json_object_get_string(v), sid) == 0)
		return (false);
	if (json_object_object_get_ex(meta, "x", &a)) {
		n = json_object_array_length(a);
		for (i = 0; i < n; i++) {
			if (sio_list_has(rooms, json_object_get_string(
			    json_object_array_get_idx(a, i))))
				return (false);
		}
	}
	if (!json_object_object_get_ex(meta, "r", &a))
		return (false);
	n = json_object_array_length(a);
	if (n == 0)
		return (true);		/* everyone */
	for (i = 0; i < n && !in; i++)
		in = sio_list_has(rooms, json_object_get_string(
		    json_object_array_get_idx(a, i)));
	return (in);
}

struct sio_replay {
	struct sio_socket	*sock;
	const struct sio_list	*rooms;
	int			 rc;
};

static int
sio_replay_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct sio_replay	*r = arg;
	struct sio_log_hdr	 hdr;
	struct sio_bin		 v[SIO_ATTACHMENTS_CAP];
	struct sio_bins		 bins;
	struct json_object	*meta;
	struct buf		 text;
	const char		*q, *end = (const char *)val + vlen;
	uint32_t		 len;
	size_t			 i;

	(void)key;
	(void)klen;
	if (vlen < sizeof(hdr))
		return (0);
	memcpy(&hdr, val, sizeof(hdr));
	q = (const char *)val + sizeof(hdr);
	if ((size_t)(end - q) < (size_t)hdr.meta_len + hdr.text_len ||
	    hdr.nbins > SIO_ATTACHMENTS_CAP)
		return (0);
	meta = sio_json_parse(q, hdr.meta_len);
	q += hdr.meta_len;
	if (meta == NULL || !sio_log_targets(meta, r->sock->nsp, r->sock->sid,
	    r->rooms)) {
		json_object_put(meta);
		return (0);
	}
	json_object_put(meta);
	buf_init(&text);
	buf_append(&text, q, hdr.text_len);
	q += hdr.text_len;
	for (i = 0; i < hdr.nbins; i++) {
		if (end - q < (ptrdiff_t)sizeof(len))
			break;
		memcpy(&len, q, sizeof(len));
		q += sizeof(len);
		if ((size_t)(end - q) < len)
			break;
		v[i].data = q;
		v[i].len = len;
		q += len;
	}
	bins.v = v;
	bins.n = i;
	r->rc = sio_send_encoded(r->sock->ctx, r->sock->eio_sid, &text, &bins);
	buf_clear(&text);
	return (r->rc != 0 ? -1 : 0);
}

/*
 * Connection state recovery: a CONNECT with the pid and offset of a
 * socket lost abruptly within the window, whose offset is still logged,
 * gets the same socket back (id, pid, rooms, data) and the events it
 * missed, before the CONNECT reply as Node sends them.  Middlewares are
 * skipped.  Returns 1 when recovered, 0 when a normal CONNECT must
 * follow, or -errno.
 */
static int
sio_recover(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    const struct sio_namespace *ns, struct sio_packet *p)
{
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct json_object	*jpid, *joff, *saved = NULL, *v, *a;
	struct sio_socket	 sock;
	struct sio_list		 rooms = { 0 };
	struct sio_replay	 r;
	struct buf		 val, data, k;
	unsigned long long	 off;
	const char		*pid, *offset;
	char			*end, be[8];
	size_t			 i, n;
	int64_t			 t;
	int			 rc;

	if (!json_object_is_type(p->data, json_type_object) ||
	    !json_object_object_get_ex(p->data, "pid", &jpid) ||
	    !json_object_object_get_ex(p->data, "offset", &joff) ||
	    !json_object_is_type(jpid, json_type_string) ||
	    !json_object_is_type(joff, json_type_string))
		return (0);
	pid = json_object_get_string(jpid);
	offset = json_object_get_string(joff);
	if (strlen(pid) != EIO_ID_LEN || strlen(offset) != 16)
		return (0);
	errno = 0;
	off = strtoull(offset, &end, 16);
	if (errno != 0 || *end != '\0')
		return (0);

	buf_init(&val);
	buf_init(&data);
	buf_init(&k);
	rc = store_kv_get(txn, STORE_T_SIO_RECOVERY, pid, strlen(pid), &val);
	if (rc == 0)
		saved = sio_json_parse(val.data, val.len);
	if (rc != 0 || saved == NULL ||
	    !json_object_object_get_ex(saved, "nsp", &v) ||
	    strcmp(json_object_get_string(v), p->nsp) != 0 ||
	    !json_object_object_get_ex(saved, "t", &v) ||
	    (t = json_object_get_int64(v)) + sio->cfg.recovery <
	    eio_ctx_now(ctx) ||
	    !json_object_object_get_ex(saved, "sid", &v)) {
		rc = rc == -ENOENT ? 0 : rc;
		goto out;
	}
	/* The offset must still be in the log. */
	sio_be64(be, off);
	if ((rc = store_kv_get(txn, STORE_T_SIO_LOG, be, sizeof(be),
	    &k)) != 0) {
		rc = rc == -ENOENT ? 0 : rc;
		goto out;
	}

	memset(&sock, 0, sizeof(sock));
	sock.sio = sio;
	sock.ctx = ctx;
	sock.ns = ns;
	sock.recovered = true;
	snprintf(sock.sid, sizeof(sock.sid), "%s", json_object_get_string(v));
	snprintf(sock.eio_sid, sizeof(sock.eio_sid), "%s", eio_sid);
	snprintf(sock.nsp, sizeof(sock.nsp), "%s", p->nsp);
	snprintf(sock.pid, sizeof(sock.pid), "%s", pid);
	if (json_object_object_get_ex(saved, "data", &v))
		sio_json_encode(v, &data);
	if ((rc = sio_socket_create(&sock, data.data, data.len)) != 0)
		goto out;
	if (json_object_object_get_ex(saved, "rooms", &a)) {
		n = json_object_array_length(a);
		for (i = 0; rc == 0 && i < n; i++) {
			const char *room = json_object_get_string(
			    json_object_array_get_idx(a, i));

			sio_list_add(&rooms, room, strlen(room));
			if (*room != '\0' && strcmp(room, sock.sid) != 0)
				rc = sio_join_internal(&sock, room);
		}
	}
	sio_list_add(&rooms, "", 0);
	sio_list_add(&rooms, sock.sid, strlen(sock.sid));
	sio_list_uniq(&rooms);
	if (rc != 0)
		goto out;
	if ((rc = store_kv_del(txn, STORE_T_SIO_RECOVERY, pid,
	    strlen(pid))) != 0)
		goto out;
	buf_reset(&k);
	sio_be64(be, (uint64_t)t);
	buf_append(&k, be, sizeof(be));
	buf_append_str(&k, pid);
	(void)store_kv_del(txn, STORE_T_SIO_RECTIME, k.data, k.len);

	/* The events after the offset, with their original offsets. */
	memset(&r, 0, sizeof(r));
	r.sock = &sock;
	r.rooms = &rooms;
	sio_be64(be, off + 1);
	rc = store_kv_scan_from(txn, STORE_T_SIO_LOG, be, sizeof(be),
	    sio_replay_fn, &r);
	if (rc == 0)
		rc = r.rc;
	if (rc == 0)
		rc = sio_connected(&sock, p->data);
	if (rc == 0)
		rc = 1;
out:
	json_object_put(saved);
	sio_list_clear(&rooms);
	buf_clear(&val);
	buf_clear(&data);
	buf_clear(&k);
	return (rc);
}

static int
sio_connect(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    struct sio_packet *p)
{
	const struct sio_namespace	*ns;
	struct sio_verdict		 verdict;
	struct buf			 data;
	struct sio_socket		 sock;
	struct json_object		*auth;
	int				 rc;

	if (sio_socket_find(sio, ctx, eio_sid, p->nsp, &sock) == 0)
		return (sio_protocol_error(ctx, eio_sid,
		    "CONNECT to a namespace already joined"));
	if ((ns = sio_namespace_find(sio, p->nsp)) == NULL)
		return (sio_refuse(ctx, eio_sid, p->nsp, "Invalid namespace",
		    NULL));
	if (sio->cfg.recovery > 0 &&
	    (rc = sio_recover(sio, ctx, eio_sid, ns, p)) != 0)
		return (rc < 0 ? rc : 0);

	auth = p->data != NULL ? json_object_get(p->data) :
	    json_object_new_object();
	memset(&verdict, 0, sizeof(verdict));
	if (ns->middleware != NULL &&
	    ns->middleware(ns->arg, ctx, auth, &verdict) != 0) {
		rc = sio_refuse(ctx, eio_sid, p->nsp, verdict.message[0] !=
		    '\0' ? verdict.message : "refused", verdict.error_data);
		json_object_put(verdict.socket_data);
		json_object_put(auth);
		return (rc);
	}
	json_object_put(verdict.error_data);

	memset(&sock, 0, sizeof(sock));
	sock.sio = sio;
	sock.ctx = ctx;
	sock.ns = ns;
	eio_id_new(sock.sid);
	if (sio->cfg.recovery > 0)
		eio_id_new(sock.pid);
	snprintf(sock.eio_sid, sizeof(sock.eio_sid), "%s", eio_sid);
	snprintf(sock.nsp, sizeof(sock.nsp), "%s", p->nsp);
	buf_init(&data);
	if (verdict.socket_data != NULL) {
		sio_json_encode(verdict.socket_data, &data);
		json_object_put(verdict.socket_data);
	}
	if ((rc = sio_socket_create(&sock, data.data, data.len)) == 0)
		rc = sio_connected(&sock, auth);
	buf_clear(&data);
	json_object_put(auth);
	return (rc);
}

/* Dispatch a complete packet (attachments, if any, in bins). */
static int
sio_dispatch(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    struct sio_packet *p, const struct sio_bins *bins)
{
	const struct sio_event	*ev;
	struct sio_socket	 sock;
	struct sio_ack		 ack;
	struct json_object	*args, *name;
	struct buf		 k, tag;
	char			 numname[32], be[8];
	const char		*event;
	size_t			 i, n;
	int			 rc = 0;

	if (p->type == SIO_PKT_CONNECT)
		return (sio_connect(sio, ctx, eio_sid, p));
	if (p->type == SIO_PKT_CONNECT_ERROR)
		return (sio_protocol_error(ctx, eio_sid,
		    "CONNECT_ERROR from a client"));
	if (sio_socket_find(sio, ctx, eio_sid, p->nsp, &sock) != 0)
		return (sio_protocol_error(ctx, eio_sid,
		    "packet for a namespace not joined"));

	switch (p->type) {
	case SIO_PKT_DISCONNECT:
		return (sio_socket_remove(&sock, "client namespace disconnect"));
	case SIO_PKT_EVENT:
	case SIO_PKT_BINARY_EVENT:
		name = json_object_array_get_idx(p->data, 0);
		if (json_object_is_type(name, json_type_string) &&
		    strlen(json_object_get_string(name)) !=
		    (size_t)json_object_get_string_len(name))
			return (0);	/* a NUL in the name: no handler's */
		if (json_object_is_type(name, json_type_string))
			event = json_object_get_string(name);
		else {
			snprintf(numname, sizeof(numname), "%s",
			    json_object_to_json_string_ext(name,
			    JSON_C_TO_STRING_PLAIN));
			event = numname;
		}
		args = json_object_new_array();
		n = json_object_array_length(p->data);
		for (i = 1; i < n; i++)
			json_object_array_add(args, json_object_get(
			    json_object_array_get_idx(p->data, i)));
		memset(&ack, 0, sizeof(ack));
		ack.sock = &sock;
		ack.id = p->id;
		for (ev = sock.ns->events; ev != NULL && ev->name != NULL;
		    ev++) {
			if (strcmp(ev->name, event) == 0)
				break;
		}
		if (ev != NULL && ev->name != NULL)
			ev->fn(sock.ns->arg, &sock, args, bins,
			    p->has_id ? &ack : NULL);
		else if (sock.ns->on_any != NULL)
			sock.ns->on_any(sock.ns->arg, &sock, event, args, bins,
			    p->has_id ? &ack : NULL);
		json_object_put(args);
		return (0);
	case SIO_PKT_ACK:
	case SIO_PKT_BINARY_ACK:
		buf_init(&k);
		buf_init(&tag);
		buf_append_str(&k, sock.sid);
		buf_append_char(&k, '\0');
		for (i = 0; i < 8; i++)
			be[i] = (char)(p->id >> (8 * (7 - i)));
		buf_append(&k, be, sizeof(be));
		rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_SIO_ACKS, k.data,
		    k.len, &tag);
		if (rc == 0)
			rc = store_kv_del(eio_ctx_txn(ctx), STORE_T_SIO_ACKS,
			    k.data, k.len);
		if (rc == 0 && sock.ns->on_ack != NULL)
			sock.ns->on_ack(sock.ns->arg, &sock, buf_str(&tag),
			    p->data, bins);
		if (rc == -ENOENT)
			rc = 0;		/* unknown ids are dropped, as Node */
		buf_clear(&k);
		buf_clear(&tag);
		return (rc);
	default:
		return (sio_protocol_error(ctx, eio_sid, "unexpected packet"));
	}
}

/*
 * An attachment for the packet being reassembled: store it, and when it
 * is the last one, dispatch the whole packet.
 */
static int
sio_attachment(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    struct buf *partial, const char *data, size_t len)
{
	struct store_txn	*txn = eio_ctx_txn(ctx);
	struct sio_partial	 hdr;
	struct sio_packet	 p;
	struct sio_bin		 v[SIO_ATTACHMENTS_CAP];
	struct sio_bins		 bins;
	const char		*cause, *q, *end;
	uint32_t		 plen;
	size_t			 i;
	int			 rc;

	memcpy(&hdr, partial->data, sizeof(hdr));
	plen = (uint32_t)len;
	hdr.received++;
	memcpy(partial->data, &hdr, sizeof(hdr));
	buf_append(partial, &plen, sizeof(plen));
	buf_append(partial, data, len);
	if (hdr.received < hdr.expected)
		return (store_kv_put(txn, STORE_T_SIO_PARTIAL, eio_sid,
		    strlen(eio_sid), partial->data, partial->len));

	if ((rc = store_kv_del(txn, STORE_T_SIO_PARTIAL, eio_sid,
	    strlen(eio_sid))) != 0 && rc != -ENOENT)
		return (rc);
	q = partial->data + sizeof(hdr) + hdr.text_len;
	end = partial->data + partial->len;
	for (i = 0; i < hdr.expected; i++) {
		if (end - q < (ptrdiff_t)sizeof(plen))
			return (-EIO);
		memcpy(&plen, q, sizeof(plen));
		q += sizeof(plen);
		if ((size_t)(end - q) < plen)
			return (-EIO);
		v[i].data = q;
		v[i].len = plen;
		q += plen;
	}
	bins.v = v;
	bins.n = hdr.expected;
	sio_packet_init(&p);
	if (sio_packet_decode(partial->data + sizeof(hdr), hdr.text_len, &p,
	    &cause) != 0)
		return (-EIO);		/* it decoded when stored */
	rc = sio_dispatch(sio, ctx, eio_sid, &p, &bins);
	sio_packet_clear(&p);
	return (rc);
}

static int
sio_on_message(void *arg, struct eio_ctx *ctx, const char *eio_sid,
    bool binary, const char *data, size_t len)
{
	struct sio		*sio = arg;
	struct sio_tcache	*c;
	struct sio_packet	 p;
	struct sio_partial	 hdr;
	struct buf		 partial;
	const char		*cause;
	uint64_t		 stamp;
	int			 rc;

	buf_init(&partial);
	c = sio_tcache();
	stamp = store_kv_stamp(eio_ctx_txn(ctx), STORE_T_SIO_PARTIAL);
	if (c->partial_stamp == stamp && strcmp(c->partial_eio, eio_sid) == 0)
		rc = -ENOENT;	/* none, and none written since */
	else {
		rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_SIO_PARTIAL,
		    eio_sid, strlen(eio_sid), &partial);
		c->partial_stamp = rc == -ENOENT && sio_fits(c->partial_eio,
		    sizeof(c->partial_eio), eio_sid) ? stamp : 0;
	}
	if (rc == 0) {
		if (!binary)
			rc = sio_protocol_error(ctx, eio_sid,
			    "text packet while attachments are awaited");
		else
			rc = sio_attachment(sio, ctx, eio_sid, &partial, data,
			    len);
		buf_clear(&partial);
		return (rc);
	}
	buf_clear(&partial);
	if (rc != -ENOENT)
		return (rc);
	if (binary)
		return (sio_protocol_error(ctx, eio_sid,
		    "binary packet while none is awaited"));

	sio_packet_init(&p);
	if (sio_packet_decode(data, len, &p, &cause) != 0)
		return (sio_protocol_error(ctx, eio_sid, cause));
	if (p.type == SIO_PKT_BINARY_EVENT || p.type == SIO_PKT_BINARY_ACK) {
		/* Keep the text until its attachments have come. */
		memset(&hdr, 0, sizeof(hdr));
		hdr.expected = (uint32_t)p.attachments;
		hdr.text_len = (uint32_t)len;
		buf_init(&partial);
		buf_append(&partial, &hdr, sizeof(hdr));
		buf_append(&partial, data, len);
		rc = store_kv_put(eio_ctx_txn(ctx), STORE_T_SIO_PARTIAL,
		    eio_sid, strlen(eio_sid), partial.data, partial.len);
		buf_clear(&partial);
	} else
		rc = sio_dispatch(sio, ctx, eio_sid, &p, NULL);
	sio_packet_clear(&p);
	return (rc);
}

static int
sio_on_open(void *arg, struct eio_ctx *ctx, const char *eio_sid)
{
	struct sio	*sio = arg;

	(void)eio_sid;
	return (eio_set_timer(ctx, eio_ctx_now(ctx) +
	    sio->cfg.connect_timeout));
}

/* The Engine.IO session ended: every socket of it leaves, once. */
static void
sio_on_close(void *arg, struct eio_ctx *ctx, const char *eio_sid,
    const char *reason)
{
	struct sio		*sio = arg;
	struct sio_list		 nsps = { 0 };
	struct sio_socket	 sock;
	size_t			 i;
	int			 rc;

	rc = sio_session_namespaces(ctx, eio_sid, &nsps);
	for (i = 0; rc == 0 && i < nsps.n; i++) {
		if (sio_socket_find(sio, ctx, eio_sid, nsps.v[i], &sock) != 0)
			continue;
		rc = sio_socket_remove(&sock, reason);
	}
	sio_list_clear(&nsps);
	rc = store_kv_del(eio_ctx_txn(ctx), STORE_T_SIO_PARTIAL, eio_sid,
	    strlen(eio_sid));
	if (rc != 0 && rc != -ENOENT)
		log_warnx("sio: a closed session's cleanup failed (%d)", rc);
}

/* connectTimeout: no namespace joined in time closes the session. */
static void
sio_on_timer(void *arg, struct eio_ctx *ctx, const char *eio_sid)
{
	struct sio_list	nsps = { 0 };

	(void)arg;
	if (sio_session_namespaces(ctx, eio_sid, &nsps) == 0 && nsps.n == 0)
		(void)eio_close(ctx, eio_sid, true, "connect timeout");
	sio_list_clear(&nsps);
}

struct sio *
sio_new(const struct sio_config *cfg, const char *path,
    const struct sio_namespace *namespaces)
{
	struct sio	*sio;

	sio = xcalloc(1, sizeof(*sio));
	sio->cfg = *cfg;
	sio->namespaces = namespaces;
	sio->path = xstrdup(path);
	sio->handler.path = sio->path;
	sio->handler.on_open = sio_on_open;
	sio->handler.on_message = sio_on_message;
	sio->handler.on_close = sio_on_close;
	sio->handler.on_timer = sio_on_timer;
	sio->handler.arg = sio;
	return (sio);
}

void
sio_free(struct sio *sio)
{
	if (sio == NULL)
		return;
	free(sio->path);
	free(sio);
}

const struct eio_handler *
sio_eio_handler(struct sio *sio)
{
	return (&sio->handler);
}
