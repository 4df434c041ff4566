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
 * A binary packet's attachments may come in later POSTs, served by other
 * processes, so the reassembly state is stored too.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sio.h"
#include "store.h"
#include "xmalloc.h"

#define SIO_ROOM_MAX		255
#define SIO_SOCK_VERSION	1
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
	struct buf	k, v;
	int		rc;

	buf_init(&k);
	buf_init(&v);
	sio_key2(&k, eio_sid, nsp);
	rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_SIO_EIO, k.data, k.len,
	    &v);
	if (rc == 0) {
		memset(sock, 0, sizeof(*sock));
		sock->sio = sio;
		sock->ctx = ctx;
		sock->ns = sio_namespace_find(sio, nsp);
		snprintf(sock->sid, sizeof(sock->sid), "%s", buf_str(&v));
		snprintf(sock->eio_sid, sizeof(sock->eio_sid), "%s", eio_sid);
		snprintf(sock->nsp, sizeof(sock->nsp), "%s", nsp);
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

/*
 * Encode an EVENT (or BINARY_EVENT when bins) of event with args into
 * out: ["event", ...args].
 */
static void
sio_encode_event(struct buf *out, const char *nsp, bool has_id,
    uint64_t id, const char *event, struct json_object *args,
    const struct sio_bins *bins)
{
	struct sio_packet	 p;
	size_t			 i, n;

	sio_packet_init(&p);
	p.type = bins != NULL && bins->n > 0 ? SIO_PKT_BINARY_EVENT :
	    SIO_PKT_EVENT;
	p.attachments = bins != NULL ? bins->n : 0;
	snprintf(p.nsp, sizeof(p.nsp), "%s", nsp);
	p.has_id = has_id;
	p.id = id;
	p.data = json_object_new_array();
	json_object_array_add(p.data, json_object_new_string(event));
	n = args != NULL ? json_object_array_length(args) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(p.data,
		    json_object_get(json_object_array_get_idx(args, i)));
	sio_packet_encode(&p, out);
	sio_packet_clear(&p);
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

int
sio_emit(struct sio_socket *sock, const char *event, struct json_object *args,
    const struct sio_bins *bins)
{
	struct buf	out;
	int		rc;

	buf_init(&out);
	sio_encode_event(&out, sock->nsp, false, 0, event, args, bins);
	rc = sio_send_encoded(sock->ctx, sock->eio_sid, &out, bins);
	buf_clear(&out);
	return (rc);
}

int
sio_emit_ack(struct sio_socket *sock, const char *event,
    struct json_object *args, const struct sio_bins *bins, const char *tag)
{
	struct sio_sock_rec	 rec;
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
	sio_encode_event(&out, sock->nsp, true, id, event, args, bins);
	rc = sio_send_encoded(sock->ctx, sock->eio_sid, &out, bins);
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
	struct sio_packet	 p;
	struct buf		 out;
	size_t			 i, n;
	int			 rc;

	if (ack == NULL || ack->used)
		return (-EINVAL);
	ack->used = true;
	sio_packet_init(&p);
	p.type = bins != NULL && bins->n > 0 ? SIO_PKT_BINARY_ACK :
	    SIO_PKT_ACK;
	p.attachments = bins != NULL ? bins->n : 0;
	snprintf(p.nsp, sizeof(p.nsp), "%s", ack->sock->nsp);
	p.has_id = true;
	p.id = ack->id;
	p.data = json_object_new_array();
	n = results != NULL ? json_object_array_length(results) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(p.data,
		    json_object_get(json_object_array_get_idx(results, i)));
	buf_init(&out);
	sio_packet_encode(&p, &out);
	sio_packet_clear(&p);
	rc = sio_send_encoded(ack->sock->ctx, ack->sock->eio_sid, &out, bins);
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
	sio_encode_event(&out, t->nsp, false, 0, event, args, bins);
	for (i = 0; i < n; i++) {
		j = 2 * i;
		if (i > 0 && strcmp(order[j], order[j - 2]) == 0)
			continue;
		if (sio_list_has(&ex, order[j]))
			continue;
		rc = sio_send_encoded(ctx, order[j + 1], &out, bins);
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
	struct json_object	*obj = NULL;
	struct buf		 data;

	buf_init(&data);
	if (sio_rec_get(sock, &rec, &data) == 0 && data.len > 0)
		obj = sio_json_parse(data.data, data.len);
	buf_clear(&data);
	return (obj);
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

/* Connecting and disconnecting. */

/*
 * Remove a socket for good: its handler first (it may still emit to the
 * others), then its rooms, pending acks and records.
 */
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

static int
sio_connect(struct sio *sio, struct eio_ctx *ctx, const char *eio_sid,
    struct sio_packet *p)
{
	const struct sio_namespace	*ns;
	struct sio_refusal		 refusal;
	struct sio_socket		 sock;
	struct sio_sock_rec		 rec;
	struct json_object		*auth, *reply;
	struct buf			 k;
	int				 rc;

	if (sio_socket_find(sio, ctx, eio_sid, p->nsp, &sock) == 0)
		return (sio_protocol_error(ctx, eio_sid,
		    "CONNECT to a namespace already joined"));
	if ((ns = sio_namespace_find(sio, p->nsp)) == NULL)
		return (sio_refuse(ctx, eio_sid, p->nsp, "Invalid namespace",
		    NULL));
	auth = p->data != NULL ? json_object_get(p->data) :
	    json_object_new_object();
	memset(&refusal, 0, sizeof(refusal));
	if (ns->middleware != NULL &&
	    ns->middleware(ns->arg, ctx, auth, &refusal) != 0) {
		rc = sio_refuse(ctx, eio_sid, p->nsp, refusal.message[0] !=
		    '\0' ? refusal.message : "refused", refusal.data);
		json_object_put(auth);
		return (rc);
	}

	memset(&sock, 0, sizeof(sock));
	sock.sio = sio;
	sock.ctx = ctx;
	sock.ns = ns;
	eio_id_new(sock.sid);
	snprintf(sock.eio_sid, sizeof(sock.eio_sid), "%s", eio_sid);
	snprintf(sock.nsp, sizeof(sock.nsp), "%s", p->nsp);
	memset(&rec, 0, sizeof(rec));
	rec.connected = eio_ctx_now(ctx);
	snprintf(rec.eio_sid, sizeof(rec.eio_sid), "%s", eio_sid);
	buf_init(&k);
	sio_key2(&k, eio_sid, p->nsp);
	if ((rc = sio_rec_put(&sock, &rec, NULL, 0)) != 0 ||
	    (rc = store_kv_put(eio_ctx_txn(ctx), STORE_T_SIO_EIO, k.data,
	    k.len, sock.sid, strlen(sock.sid))) != 0 ||
	    (rc = sio_join_internal(&sock, "")) != 0 ||
	    (rc = sio_join_internal(&sock, sock.sid)) != 0) {
		buf_clear(&k);
		json_object_put(auth);
		return (rc);
	}
	buf_clear(&k);

	reply = json_object_new_object();
	json_object_object_add(reply, "sid", json_object_new_string(sock.sid));
	rc = sio_send_packet(ctx, eio_sid, SIO_PKT_CONNECT, p->nsp, reply);
	json_object_put(reply);
	/* Joining any namespace cancels connectTimeout for good. */
	if (rc == 0)
		rc = eio_set_timer(ctx, 0);
	log_debug("sio: sid=%s joined %s as %s", eio_sid, sock.nsp, sock.sid);
	if (rc == 0 && ns->on_connection != NULL)
		ns->on_connection(ns->arg, &sock, auth);
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
	struct sio_bin		 v[SIO_MAX_ATTACHMENTS];
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
	struct sio_packet	 p;
	struct sio_partial	 hdr;
	struct buf		 partial;
	const char		*cause;
	int			 rc;

	buf_init(&partial);
	rc = store_kv_get(eio_ctx_txn(ctx), STORE_T_SIO_PARTIAL, eio_sid,
	    strlen(eio_sid), &partial);
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
		log_warnx("sio: sid=%s: cleanup failed (%d)", eio_sid, rc);
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
