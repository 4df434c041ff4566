/*
 * sio-fcgi: the state store, the only module that includes <lmdb.h>.
 *
 * Every process opens the same environment with the same flags and any of
 * them may serve any request, so all session state lives here: Engine.IO
 * session records, their outbound packet queues, the index of their
 * deadlines, and leases.  Callers work inside a transaction
 * (struct store_txn); values read are copied into caller memory before the
 * call returns, so nothing borrowed outlives the transaction.  Wake-ups of
 * waiting polls that a write transaction asks for are sent by
 * store_txn_commit(), after the data is durable, never before.
 *
 * Errors: 0 on success or a negative errno: -ENOENT (no such key),
 * -ENOSPC (map full), -EIO (any other storage failure, logged once with
 * the LMDB reason), -EINVAL (bad argument).
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define STORE_SID_MAX	32	/* longest session id, without the NUL */

struct store;
struct store_txn;

/*
 * Durability (docs/design.md, "Durability").  With full and meta,
 * store_txn_commit() returns once an fdatasync that covers the commit
 * has returned; one sync serves every commit of the process made while
 * the previous one ran (group commit), outside LMDB's writer lock.
 */
enum store_sync {
	STORE_SYNC_FULL = 0,	/* + data pages flushed before the meta page
				   (MDB_NOMETASYNC): intact after power loss */
	STORE_SYNC_META,	/* group sync only (MDB_NOSYNC) */
	STORE_SYNC_NONE,	/* leave flushing to the OS (MDB_NOSYNC) */
};

struct store_config {
	const char	*path;		/* environment directory, created 0700 */
	size_t		 map_size;	/* bytes; the same in every process */
	unsigned int	 max_readers;	/* the same in every process */
	enum store_sync	 sync;
	uint64_t	 instance;	/* this process's bell id (bell_self()) */
};

/* Open (creating when missing) the environment.  Returns 0 or -errno. */
int	store_open(const struct store_config *, struct store **);
void	store_close(struct store *);
/*
 * Free the reader slots of processes that died inside a read transaction
 * (they would fill the table, MDB_READERS_FULL, and keep old pages from
 * reuse); logs a warning with their number when there were any.  Returns
 * that number or -errno.  store_open() does it once; call it again from
 * time to time (the sweep does).
 */
int	store_reader_check(struct store *);
/*
 * True when a write failed half-way (the meta page: an I/O error, a file
 * system turned read-only in the middle of a commit) and LMDB refuses
 * every further transaction of this process (MDB_PANIC).  The data on
 * disk is intact; only closing the environment and opening it again,
 * which a new process does, recovers.
 */
bool	store_is_broken(struct store *);
/* Parse "full", "meta" or "none"; -1 when none of them. */
int	store_sync_parse(const char *);

int	store_txn_begin(struct store *, bool write, struct store_txn **);
/*
 * Commit, wait until the commit is on disk (--sync full or meta), then
 * send the wake-ups recorded with store_txn_ring().  The transaction is
 * freed, even on error.  A sync that fails after the commit is logged
 * but does not fail the call: the commit is visible to every process
 * (it is then not known to survive a power failure).
 */
int	store_txn_commit(struct store_txn *);
/*
 * The same without waiting for the disk, for a transaction whose effects
 * nobody is told of before a later store_txn_commit() (LMDB commits are
 * ordered, so that one's sync covers this one): a held GET's record.
 * With rings recorded it waits as store_txn_commit() does.
 */
int	store_txn_commit_nowait(struct store_txn *);
/*
 * Commit, and wait until every commit this transaction could read is on
 * disk, not its own writes: for an answer that only reports what was
 * stored before (a poll's packets), where the transaction writes only
 * bookkeeping (what was sent), which a power failure may undo so that
 * the packets are sent again, never lost.  With --sync full the batch's
 * own commit flushes all of that, so nothing is waited for beyond it;
 * with meta it waits as store_txn_commit() does.  With rings recorded
 * it waits as store_txn_commit() does.
 */
int	store_txn_commit_seen(struct store_txn *);
/*
 * What a commit made with store_txn_commit_later() still owes: the wait
 * for the disk store_txn_commit_seen() would have made (or, when nested
 * transactions asked for it, store_txn_commit()'s), and its rings.
 */
struct store_ring;
struct store_ticket {
	struct store		*st;	/* NULL: nothing owed */
	bool			 wait;
	uint64_t		 n;	/* the commit number to wait for */
	struct store_ring	*rings;
	size_t			 nrings;
};
/*
 * Commit as store_txn_commit_seen() does, or as store_txn_commit() when
 * a nested transaction asked for it, but return once the commit is
 * visible, with the rest in *ticket: for a thread that must go on (the
 * parker) and leaves the wait, before anyone is told of the commit, to
 * another.  A nested or read-only transaction commits as usual.
 */
int	store_txn_commit_later(struct store_txn *, struct store_ticket *);
/* Make the wait a ticket owes, then send its rings; the sync's error. */
int	store_ticket_settle(struct store_ticket *);
/*
 * Until called again with NULL, the write transactions this thread begins
 * on parent's store are nested in parent (an LMDB child transaction):
 * their commit merges what they wrote into parent at once, with their
 * rings and the wait they asked for (the strongest of them is parent's
 * own commit's), and their abort undoes only them.  For code written
 * for transactions of its own, run inside one shared transaction.
 */
void	store_txn_nest(struct store_txn *parent);
/* Abandon the transaction (NULL is a no-op); recorded rings are dropped. */
void	store_txn_abort(struct store_txn *);
/* Ask commit to wake the poll that instance holds for sid. */
void	store_txn_ring(struct store_txn *, uint64_t instance, const char *sid);

/* Engine.IO session states. */
enum store_session_state {
	STORE_SESSION_OPEN = 1,
	/*
	 * Closed; the record stays only to give the GET that is (or will
	 * be) waiting its last answer: close_tail_held for the GET that was
	 * held when the session closed, close_tail_next for a GET that
	 * arrives later.  Any other request gets "Session ID unknown".
	 */
	STORE_SESSION_CLOSING = 2,
};

/* What a GET gets when it finds its session closing (close tails). */
enum store_tail {
	STORE_TAIL_NONE = 0,	/* nothing: the request gets code 1 */
	STORE_TAIL_CLOSE,	/* "1" */
	STORE_TAIL_NOOP,	/* "6" */
	STORE_TAIL_NOOP_CLOSE,	/* "6\x1e1" */
};

/*
 * One Engine.IO session.  Stored as is, so every field has a fixed size;
 * bump STORE_SESSION_VERSION when the layout changes.  Times are
 * CLOCK_REALTIME milliseconds, shared by all processes.
 */
#define STORE_SESSION_VERSION	2
struct store_session {
	uint32_t	version;
	uint8_t		state;		/* enum store_session_state */
	uint8_t		endpoint;	/* which application serves it */
	uint8_t		ping_sent;	/* a ping is out, a pong awaited */
	uint8_t		close_tail_held; /* enum store_tail */
	uint8_t		close_tail_next; /* enum store_tail */
	/*
	 * The held GET was rung for a packet queued to it: no more rings
	 * until it is answered, which any queued packet makes it be.  Reset
	 * when a GET is held anew.
	 */
	uint8_t		get_rung;
	uint8_t		pad[2];
	uint32_t	ping_interval;	/* ms, fixed at the handshake */
	uint32_t	ping_timeout;	/* ms */
	int64_t		created;
	int64_t		ping_at;	/* next ping due, or when sent */
	int64_t		closing_until;	/* CLOSING: record removed after */
	int64_t		timer;		/* deadline in the timer index, 0 */
	/*
	 * Queue sequence numbers: [q_head, q_sent) went out in the last GET
	 * answer and is dropped when the next GET proves it arrived;
	 * [q_sent, q_tail) is waiting.
	 */
	uint64_t	q_head;
	uint64_t	q_sent;
	uint64_t	q_tail;
	/* The GET held for this session: 0 when none. */
	uint64_t	get_instance;
	uint64_t	get_token;
	/* The POST being read for this session: 0 when none. */
	uint64_t	post_instance;
	uint64_t	post_token;
	int64_t		post_started;
	/* The application's own timer (connectTimeout): 0 when none. */
	int64_t		app_deadline;
};

/* Read the record of sid into *s.  -ENOENT when there is none. */
int	store_session_get(struct store_txn *, const char *sid,
	    struct store_session *s);
/* Write the record; with create, -EEXIST when sid already exists. */
int	store_session_put(struct store_txn *, const char *sid,
	    const struct store_session *s, bool create);
/* Remove the record, its queue and its timer-index entry. */
int	store_session_del(struct store_txn *, const char *sid,
	    const struct store_session *s);
/*
 * Move sid's entry in the deadline index from s->timer to deadline (0 =
 * none) and store the new value in s->timer; the caller then puts s.
 */
int	store_session_set_timer(struct store_txn *, const char *sid,
	    struct store_session *s, int64_t deadline);
/* Number of session records (for --stats and tests). */
int	store_session_count(struct store_txn *, size_t *n);

/*
 * Append one encoded Engine.IO packet to sid's queue at s->q_tail and
 * advance it (the caller puts s).
 */
int	store_queue_push(struct store_txn *, const char *sid,
	    struct store_session *s, const void *pkt, size_t len);
/*
 * Append the packets [from, to) of sid's queue to out, joined by 0x1e
 * (with a leading 0x1e when out is not empty).
 */
int	store_queue_read(struct store_txn *, const char *sid, uint64_t from,
	    uint64_t to, struct buf *out);
/* Remove the packets [from, to) of sid's queue. */
int	store_queue_trim(struct store_txn *, const char *sid, uint64_t from,
	    uint64_t to);

/*
 * Call fn for each session whose deadline is at or before now, oldest
 * first, at most max of them.  fn may change or delete the session (and
 * its timer).  Returns the number visited or -errno.
 */
int	store_timer_due(struct store_txn *, int64_t now, size_t max,
	    int (*fn)(struct store_txn *, const char *sid, void *), void *arg);

/*
 * Tables of the layers above Engine.IO, as plain ordered key/value maps.
 * Keys are at most STORE_KEY_MAX bytes and compare as bytes; the record
 * layouts belong to the layer that owns the table.
 */
#define STORE_KEY_MAX	500
enum store_table {
	STORE_T_SIO_SOCKETS = 0,	/* socket id -> socket record */
	STORE_T_SIO_EIO,		/* eio sid, nsp -> socket id */
	STORE_T_SIO_ROOMS,		/* nsp, room, socket id -> empty */
	STORE_T_SIO_SOCKROOMS,		/* socket id, room -> empty */
	STORE_T_SIO_ACKS,		/* socket id, ack id -> tag */
	STORE_T_SIO_PARTIAL,		/* eio sid -> binary packet in progress */
	STORE_T_SIO_LOG,		/* offset -> packet kept for recovery */
	STORE_T_SIO_RECOVERY,		/* pid -> socket kept for recovery */
	STORE_T_SIO_RECTIME,		/* time, pid -> empty (expiry order) */
	STORE_T_SIO_META,		/* name -> counter */
	STORE_T_APP,			/* the application's own */
	STORE_T_COUNT,
};

/* Put the value of key into val (replacing its contents); -ENOENT. */
int	store_kv_get(struct store_txn *, enum store_table, const void *key,
	    size_t klen, struct buf *val);
int	store_kv_put(struct store_txn *, enum store_table, const void *key,
	    size_t klen, const void *val, size_t vlen);
/* Remove key; -ENOENT when it was not there. */
int	store_kv_del(struct store_txn *, enum store_table, const void *key,
	    size_t klen);
/*
 * The stamp of table tb in t: a number no other transaction or table has
 * had, which changes whenever t puts or deletes in tb.  A value read from
 * tb in t and kept with the stamp of that moment is still what tb holds
 * while the stamp is the same (no other writer runs inside t).
 */
uint64_t store_kv_stamp(struct store_txn *, enum store_table);
/*
 * Call fn for each key that starts with prefix, in key order, with key
 * and value borrowed for the call.  fn returns 0 to go on, > 0 to stop
 * (store_kv_scan then returns 0) or < 0 to fail with that error.  fn
 * must not write to the table being scanned: collect, then change.
 */
int	store_kv_scan(struct store_txn *, enum store_table, const void *prefix,
	    size_t plen, int (*fn)(void *arg, const void *key, size_t klen,
	    const void *val, size_t vlen), void *arg);

/* The same from the first key at or after from, to the table's end. */
int	store_kv_scan_from(struct store_txn *, enum store_table,
	    const void *from, size_t flen, int (*fn)(void *arg,
	    const void *key, size_t klen, const void *val, size_t vlen),
	    void *arg);

/*
 * Take or renew the named lease for this process's instance until
 * now + ttl.  Returns 1 when held, 0 when another live holder has it, or
 * -errno.  Reads first and writes only when the lease is free, expired
 * or ours and due for renewal.
 */
int	store_lease_take(struct store *, const char *name, int64_t now,
	    int64_t ttl);

/* The process's instance id, as given in the config. */
uint64_t store_instance(const struct store *);
/*
 * Write transactions this process committed through store_txn_commit()
 * (for --stats, the benchmark and tests).
 */
uint64_t store_commit_count(struct store *);
/*
 * LMDB write transactions committed for them: fewer under contention,
 * as concurrent requests of the process share one (a batch).
 */
uint64_t store_lmdb_commit_count(struct store *);
/* mdb_env_sync() calls made for store_txn_commit(): one per group. */
uint64_t store_sync_count(struct store *);

#endif
