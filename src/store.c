/*
 * sio-fcgi: the state store over one LMDB environment.
 *
 * Tables: "sessions" (sid -> struct store_session), "queue" (sid length,
 * sid, big-endian sequence -> one encoded Engine.IO packet), "timers"
 * (big-endian deadline, sid -> empty: the sessions the sweep must look
 * at, in deadline order) and "meta" (name -> value: leases).  Every
 * opener uses the same flags (MDB_NOTLS, maxreaders, map size), since
 * LMDB fixes them at the first open (DEPLOY.md section 6).
 *
 * Write transactions are children of a batch: one LMDB write transaction
 * shared by the process's threads (store_batch_join), committed by the
 * thread that began it (docs/design.md, "Combining writer").
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "bell.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

struct store {
	MDB_env		*env;
	MDB_dbi		 sessions;
	MDB_dbi		 queue;
	MDB_dbi		 timers;
	MDB_dbi		 meta;
	MDB_dbi		 kv[STORE_T_COUNT];
	uint64_t	 instance;
	uint64_t	 commits;	/* write commits, atomic */

	/*
	 * Group commit (see store_txn_commit): commits are numbered in
	 * the order their mdb_txn_commit() returned; one waiter at a time
	 * (the leader) runs mdb_env_sync() for every commit numbered when
	 * it started, the others wait for it on the condition.
	 */
	enum store_sync	 sync;
	pthread_mutex_t	 sync_mtx;
	pthread_cond_t	 sync_cond;
	uint64_t	 sync_committed; /* last number given */
	uint64_t	 sync_durable;	/* every number up to it is synced */
	bool		 syncing;	/* a leader is in mdb_env_sync() */
	uint64_t	 syncs;		/* mdb_env_sync() calls */

	/*
	 * Combining writer (see store_txn_begin): the batch open now, or
	 * NULL, and the slot: the right to run a child in it or, with no
	 * batch open, to open one.  Threads wanting the slot queue in
	 * order and each is woken alone, when the slot is handed to it.
	 */
	pthread_mutex_t	 batch_mtx;
	struct store_batch *batch;
	bool		 slot_busy;
	struct store_waiter *wq_head, *wq_tail;
	uint64_t	 lmdb_commits;	/* LMDB write commits, atomic */
};

/*
 * Bounds of a batch, so that the writer lock is not held long against
 * other processes.  A batch stays open only while threads keep joining,
 * so a longer one is not idle, and each close costs a commit and, with
 * full, a data flush under the lock: at 2 ms a batch of big POSTs held
 * two or three of them (docs/design.md, "Combining writer").
 */
#define STORE_BATCH_MAX		64
#define STORE_BATCH_NSEC	10000000

/* What a commit waits for once its batch is committed (visible). */
enum store_wait {
	STORE_WAIT_VISIBLE,	/* nothing more */
	STORE_WAIT_SEEN,	/* every commit it could read is on disk */
	STORE_WAIT_DURABLE,	/* it is on disk itself */
};

/*
 * A parent write transaction shared by several requests of the process,
 * each in a child transaction of it, one child at a time.  The thread
 * that began it (the leader) commits it: LMDB's writer lock is a mutex
 * that only the thread holding it may release.
 */
struct store_batch {
	MDB_txn		*txn;
	struct timespec	 start;		/* CLOCK_MONOTONIC */
	uint64_t	 seen;		/* sync_committed at begin */
	int		 members;	/* children begun */
	int		 committed;	/* children committed into txn */
	int		 refs;
	bool		 closing;	/* no more children */
	bool		 done;		/* txn committed or aborted */
	bool		 want_sync;	/* a member waits for the disk */
	bool		 synced;	/* the leader's sync returned */
	int		 rc;		/* of the commit, LMDB's code */
	int		 sync_rc;	/* of the sync, ours */
	/*
	 * One condition per kind of waiter, each woken only when its wait
	 * is over: with one condition for all, every child's end woke
	 * every thread of the process (futex traffic was a quarter of the
	 * daemon's CPU under load).
	 */
	pthread_cond_t	 lead;		/* the leader: the slot is free */
	pthread_cond_t	 done_cond;	/* members: committed */
	pthread_cond_t	 sync_cond;	/* members: synced */
};

/* A thread waiting for the slot, on its own stack. */
struct store_waiter {
	pthread_cond_t		 cond;
	bool			 go;	/* the slot was handed to it */
	struct store_waiter	*next;
};

static const char *store_kv_names[STORE_T_COUNT] = {
	[STORE_T_SIO_SOCKETS] = "sio_sockets",
	[STORE_T_SIO_EIO] = "sio_eio",
	[STORE_T_SIO_ROOMS] = "sio_rooms",
	[STORE_T_SIO_SOCKROOMS] = "sio_sockrooms",
	[STORE_T_SIO_ACKS] = "sio_acks",
	[STORE_T_SIO_PARTIAL] = "sio_partial",
	[STORE_T_SIO_LOG] = "sio_log",
	[STORE_T_SIO_RECOVERY] = "sio_recovery",
	[STORE_T_SIO_RECTIME] = "sio_rectime",
	[STORE_T_SIO_META] = "sio_meta",
	[STORE_T_APP] = "app",
};

struct store_ring {
	uint64_t	instance;
	char		sid[STORE_SID_MAX + 1];
};

struct store_txn {
	struct store		*st;
	MDB_txn			*txn;
	bool			 write;
	struct store_ring	*rings;
	size_t			 nrings;
	size_t			 szrings;
	struct store_batch	*batch;	/* write: the batch it is a child of */
	bool			 leader; /* began the batch */
	uint64_t		 kv_stamp[STORE_T_COUNT]; /* store_kv_stamp */
	/* store_txn_nest(): a child of parent, merged into it at commit. */
	struct store_txn	*parent;
	enum store_wait		 nest_wait;	/* the most its children asked */
};

/* The transaction this thread's write transactions nest in, or NULL. */
static __thread struct store_txn	*store_nest_parent;

/* Stamps (store_kv_stamp): every one given is new, in every store. */
static uint64_t	store_stamps;

static uint64_t
store_stamp_new(void)
{
	return (__atomic_add_fetch(&store_stamps, 1, __ATOMIC_RELAXED));
}

/* A lease record in "meta". */
struct store_lease {
	uint64_t	instance;
	int64_t		until;
};

/* Translate an LMDB code, logging the ones that are not ordinary. */
static int
store_err(const char *op, int rc)
{
	switch (rc) {
	case 0:
		return (0);
	case MDB_NOTFOUND:
		return (-ENOENT);
	case MDB_KEYEXIST:
		return (-EEXIST);
	case MDB_MAP_FULL:
		log_error("store: %s: %s", op, mdb_strerror(rc));
		return (-ENOSPC);
	default:
		log_error("store: %s: %s", op, mdb_strerror(rc));
		if (rc > 0)
			return (-rc);
		return (-EIO);
	}
}

int
store_sync_parse(const char *s)
{
	if (strcmp(s, "full") == 0)
		return (STORE_SYNC_FULL);
	if (strcmp(s, "meta") == 0)
		return (STORE_SYNC_META);
	if (strcmp(s, "none") == 0)
		return (STORE_SYNC_NONE);
	return (-1);
}

/* mkdir -p with mode 0700 for the directories we create. */
static int
store_mkdirs(const char *path)
{
	char	*p, *s;
	int	 rc = 0;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = -errno;
			free(p);
			return (rc);
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return (rc);
}

/* What to do about an error of mdb_env_open, for its log line. */
static const char *
store_open_hint(int rc)
{
	switch (rc) {
	case EACCES:
	case EPERM:
		return (" (the directory and its files must be writable by the user sio-fcgi runs as)");
	case EROFS:
		return (" (sio-fcgi writes there: it needs a read-write file system)");
	case ENOSPC:
		return (" (the file system is full)");
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return (" (data.mdb is not an LMDB environment of this version)");
	default:
		return ("");
	}
}

int
store_reader_check(struct store *st)
{
	int	rc, dead = 0;

	if ((rc = mdb_reader_check(st->env, &dead)) != 0)
		return (store_err("reader_check", rc));
	if (dead > 0)
		log_warnx("store: cleared %d stale reader slot%s left by a process that died in a read transaction", dead, dead == 1 ? "" : "s");
	return (dead);
}

bool
store_is_broken(struct store *st)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) == 0)
		mdb_txn_abort(txn);
	return (rc == MDB_PANIC);
}

int
store_open(const struct store_config *cfg, struct store **stp)
{
	struct store	*st;
	MDB_txn		*txn;
	unsigned int	 flags = MDB_NOTLS;
	int		 rc, i;

	if ((rc = store_mkdirs(cfg->path)) != 0) {
		log_error("store: cannot create %s: %s%s", cfg->path,
		    strerror(-rc), store_open_hint(-rc));
		return (rc);
	}
	st = xcalloc(1, sizeof(*st));
	st->instance = cfg->instance;
	st->sync = cfg->sync;
	/*
	 * full: the data pages are flushed under the writer lock before
	 * the meta page that points at them is written (LMDB's ordering),
	 * the meta page by the group sync.  meta and none: LMDB flushes
	 * nothing; meta waits for the group sync before answering.
	 */
	if (cfg->sync == STORE_SYNC_FULL)
		flags |= MDB_NOMETASYNC;
	else
		flags |= MDB_NOSYNC;
	if ((rc = mdb_env_create(&st->env)) != 0) {
		free(st);
		return (store_err("env_create", rc));
	}
	if ((rc = mdb_env_set_maxdbs(st->env, 32)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, cfg->max_readers)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, cfg->map_size)) != 0)
		goto fail;
	if ((rc = mdb_env_open(st->env, cfg->path, flags, 0600)) != 0) {
		log_error("store: cannot open %s: %s%s", cfg->path,
		    mdb_strerror(rc), store_open_hint(rc));
		mdb_env_close(st->env);
		free(st);
		return (rc > 0 ? -rc : -EIO);
	}
	/* Free the reader slots of processes that died holding one. */
	store_reader_check(st);

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "sessions", MDB_CREATE,
	    &st->sessions)) != 0 ||
	    (rc = mdb_dbi_open(txn, "queue", MDB_CREATE, &st->queue)) != 0 ||
	    (rc = mdb_dbi_open(txn, "timers", MDB_CREATE, &st->timers)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	for (i = 0; i < STORE_T_COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, store_kv_names[i], MDB_CREATE,
		    &st->kv[i])) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	pthread_mutex_init(&st->sync_mtx, NULL);
	pthread_cond_init(&st->sync_cond, NULL);
	pthread_mutex_init(&st->batch_mtx, NULL);
	*stp = st;
	return (0);
fail:
	rc = store_err("open", rc);
	mdb_env_close(st->env);
	free(st);
	return (rc);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* MDB_NOSYNC leaves the last commits to us. */
	if (st->sync != STORE_SYNC_NONE)
		(void)mdb_env_sync(st->env, 1);
	mdb_env_close(st->env);
	pthread_cond_destroy(&st->sync_cond);
	pthread_mutex_destroy(&st->sync_mtx);
	pthread_mutex_destroy(&st->batch_mtx);
	free(st);
}

uint64_t
store_instance(const struct store *st)
{
	return (st->instance);
}

uint64_t
store_commit_count(struct store *st)
{
	return (__atomic_load_n(&st->commits, __ATOMIC_RELAXED));
}

uint64_t
store_lmdb_commit_count(struct store *st)
{
	return (__atomic_load_n(&st->lmdb_commits, __ATOMIC_RELAXED));
}

static bool
store_batch_expired(const struct store_batch *b)
{
	struct timespec	now;
	int64_t		ns;

	if (b->members >= STORE_BATCH_MAX)
		return (true);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(now.tv_sec - b->start.tv_sec) * 1000000000 +
	    (now.tv_nsec - b->start.tv_nsec);
	return (ns >= STORE_BATCH_NSEC);
}

/* Drop a reference to b; the batch mutex is held. */
static void
store_batch_unref(struct store_batch *b)
{
	if (--b->refs == 0) {
		pthread_cond_destroy(&b->lead);
		pthread_cond_destroy(&b->done_cond);
		pthread_cond_destroy(&b->sync_cond);
		free(b);
	}
}

/*
 * Take the slot (the batch mutex is held): at once when it is free,
 * else after those who asked before, woken alone when it is ours.
 */
static void
store_slot_take(struct store *st)
{
	struct store_waiter	w;

	if (!st->slot_busy) {
		st->slot_busy = true;
		return;
	}
	pthread_cond_init(&w.cond, NULL);
	w.go = false;
	w.next = NULL;
	if (st->wq_tail != NULL)
		st->wq_tail->next = &w;
	else
		st->wq_head = &w;
	st->wq_tail = &w;
	while (!w.go)
		pthread_cond_wait(&w.cond, &st->batch_mtx);
	/* The signal was sent under the mutex we now hold: done with w. */
	pthread_cond_destroy(&w.cond);
}

/*
 * Give the slot up (the batch mutex is held): to the first thread
 * waiting for it or, with none, free it, and then the open batch's
 * leader may commit.  The slot is never free while a thread waits.
 */
static void
store_slot_give(struct store *st)
{
	struct store_waiter	*w = st->wq_head;

	if (w == NULL) {
		st->slot_busy = false;
		if (st->batch != NULL)
			pthread_cond_signal(&st->batch->lead);
		return;
	}
	if ((st->wq_head = w->next) == NULL)
		st->wq_tail = NULL;
	w->go = true;
	pthread_cond_signal(&w->cond);
}

/* The write transaction ended; with full, commit says it flushed. */
static void
store_txn_closed(struct store *st, uint64_t seen, bool flushed)
{
	pthread_mutex_lock(&st->sync_mtx);
	if (flushed && seen > st->sync_durable)
		st->sync_durable = seen;
	/* Waiters behind a running sync may be done already. */
	pthread_cond_broadcast(&st->sync_cond);
	pthread_mutex_unlock(&st->sync_mtx);
}

/*
 * Begin a batch: its parent transaction, under LMDB's writer lock, and
 * the leader's child in it.  The caller holds the slot, and no batch is
 * open.
 */
static int
store_batch_open(struct store *st, struct store_txn *t)
{
	struct store_batch	*b;
	MDB_txn			*txn;
	int			 rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc == 0 && (rc = mdb_txn_begin(st->env, txn, 0, &t->txn)) != 0)
		mdb_txn_abort(txn);
	if (rc != 0) {
		pthread_mutex_lock(&st->batch_mtx);
		store_slot_give(st);
		pthread_mutex_unlock(&st->batch_mtx);
		return (store_err("txn_begin", rc));
	}
	b = xcalloc(1, sizeof(*b));
	b->txn = txn;
	pthread_cond_init(&b->lead, NULL);
	pthread_cond_init(&b->done_cond, NULL);
	pthread_cond_init(&b->sync_cond, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b->start);
	b->members = 1;
	b->refs = 1;
	/* We hold the writer lock: every numbered commit is done. */
	pthread_mutex_lock(&st->sync_mtx);
	b->seen = st->sync_committed;
	pthread_mutex_unlock(&st->sync_mtx);

	pthread_mutex_lock(&st->batch_mtx);
	st->batch = b;
	pthread_mutex_unlock(&st->batch_mtx);
	t->batch = b;
	t->leader = true;
	return (0);
}

/*
 * A write transaction is a child of the batch the process has open (a
 * combining writer: one LMDB commit, one writer lock handoff and one data
 * flush for several requests), or begins one.  Children take turns (LMDB
 * allows one at a time) through the slot.  A batch at its bounds is
 * closed by the next thread to get the slot, which opens the next one
 * (it then waits in mdb_txn_begin until the leader has committed).
 */
static int
store_batch_join(struct store *st, struct store_txn *t)
{
	struct store_batch	*b;
	int			 rc;

	pthread_mutex_lock(&st->batch_mtx);
	store_slot_take(st);
	b = st->batch;
	if (b != NULL && store_batch_expired(b)) {
		b->closing = true;
		st->batch = NULL;
		pthread_cond_signal(&b->lead);
		b = NULL;
	}
	if (b == NULL) {
		pthread_mutex_unlock(&st->batch_mtx);
		return (store_batch_open(st, t));
	}
	b->members++;
	b->refs++;	/* the leader may free it once it committed */
	pthread_mutex_unlock(&st->batch_mtx);
	t->batch = b;
	if ((rc = mdb_txn_begin(st->env, b->txn, 0, &t->txn)) != 0) {
		pthread_mutex_lock(&st->batch_mtx);
		store_slot_give(st);
		store_batch_unref(b);
		pthread_mutex_unlock(&st->batch_mtx);
		return (store_err("txn_begin", rc));
	}
	return (0);
}

int
store_txn_begin(struct store *st, bool write, struct store_txn **tp)
{
	struct store_txn	*t;
	size_t			 i;
	int			 rc;

	t = xcalloc(1, sizeof(*t));
	t->st = st;
	t->write = write;
	t->kv_stamp[0] = store_stamp_new();
	for (i = 1; i < STORE_T_COUNT; i++)
		t->kv_stamp[i] = t->kv_stamp[0];
	if (write && store_nest_parent != NULL && store_nest_parent->st == st) {
		/* Inside the parent: no slot, no batch of its own. */
		t->parent = store_nest_parent;
		rc = mdb_txn_begin(st->env, t->parent->txn, 0, &t->txn);
		if (rc != 0) {
			free(t);
			return (store_err("txn_begin", rc));
		}
		*tp = t;
		return (0);
	}
	if (write) {
		if ((rc = store_batch_join(st, t)) != 0) {
			free(t);
			return (rc);
		}
		*tp = t;
		return (0);
	}
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t->txn);
	if (rc == MDB_READERS_FULL) {
		/* A killed process may hold slots: clear them, try again. */
		mdb_reader_check(st->env, NULL);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		free(t);
		return (store_err("txn_begin", rc));
	}
	*tp = t;
	return (0);
}

static void
store_txn_free(struct store_txn *t)
{
	free(t->rings);
	free(t);
}

uint64_t
store_sync_count(struct store *st)
{
	return (__atomic_load_n(&st->syncs, __ATOMIC_RELAXED));
}

/*
 * Wait until the commit numbered n is on disk.  Whoever finds no sync
 * running becomes the leader: it syncs everything committed so far, out
 * of the mutex and out of LMDB's writer lock, so that writers go on
 * committing meanwhile and the next sync covers all of them at once.
 */
static int
store_sync_wait(struct store *st, uint64_t n)
{
	uint64_t	target;
	int		rc = 0;

	pthread_mutex_lock(&st->sync_mtx);
	while (st->sync_durable < n) {
		/*
		 * A sync that is running may have begun before commit n:
		 * wait for it, then look again.  With full, a commit that
		 * returned meanwhile flushed our meta page along with its
		 * own data (store_txn_closed), and nothing is left to do.
		 * The next commit is not waited for: it may be a whole
		 * batch away, and the answers and rings waiting here would
		 * wait that long instead of a sync's time (docs/design.md,
		 * "Group commit").
		 */
		if (st->syncing) {
			pthread_cond_wait(&st->sync_cond, &st->sync_mtx);
			continue;
		}
		st->syncing = true;
		target = st->sync_committed;
		pthread_mutex_unlock(&st->sync_mtx);
		rc = mdb_env_sync(st->env, 1);
		__atomic_add_fetch(&st->syncs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&st->sync_mtx);
		st->syncing = false;
		if (rc == 0 && target > st->sync_durable)
			st->sync_durable = target;
		pthread_cond_broadcast(&st->sync_cond);
		if (rc != 0)
			break;
	}
	pthread_mutex_unlock(&st->sync_mtx);
	return (store_err("sync", rc));
}

/*
 * The child of t ended (ok: committed into the batch; durable: it waits
 * for the disk too).  A member waits for the leader's commit, and with
 * durable for the sync after it; the leader waits until nobody else waits
 * to join or the batch reached its bounds, then commits (or, with
 * nothing committed into it, aborts) the parent and, if any member asked
 * for it, waits for the group sync on behalf of all: one thread per batch
 * in store_sync_wait, not one per request.  Returns the parent's result;
 * *syncrc is the sync's (0 when there was none).
 */
static int
store_batch_finish(struct store_txn *t, bool ok, bool durable, int *syncrc)
{
	struct store		*st = t->st;
	struct store_batch	*b = t->batch;
	MDB_envinfo		 info;
	uint64_t		 id, n;
	int			 rc, src;
	bool			 want;

	*syncrc = 0;
	pthread_mutex_lock(&st->batch_mtx);
	if (ok) {
		b->committed++;
		if (durable)
			b->want_sync = true;
	}
	store_slot_give(st);
	if (!t->leader) {
		if (ok && durable) {
			while (!b->synced)
				pthread_cond_wait(&b->sync_cond,
				    &st->batch_mtx);
		} else if (ok) {
			while (!b->done)
				pthread_cond_wait(&b->done_cond,
				    &st->batch_mtx);
		}
		rc = b->rc;
		*syncrc = b->sync_rc;
		store_batch_unref(b);
		pthread_mutex_unlock(&st->batch_mtx);
		/* A log line per failed request, as without batches. */
		return (ok ? store_err("commit", rc) : 0);
	}
	/* Commit once nobody runs a child or waits for the slot. */
	while (!b->closing && st->slot_busy)
		pthread_cond_wait(&b->lead, &st->batch_mtx);
	if (!b->closing) {
		b->closing = true;
		st->batch = NULL;
	}
	pthread_mutex_unlock(&st->batch_mtx);

	rc = 0;
	n = 0;
	if (b->committed == 0) {
		mdb_txn_abort(b->txn);
		store_txn_closed(st, b->seen, false);
	} else {
		id = mdb_txn_id(b->txn);
		if ((rc = mdb_txn_commit(b->txn)) != 0) {
			store_txn_closed(st, b->seen, false);
		} else {
			/*
			 * With MDB_NOMETASYNC, LMDB flushed the data file
			 * before it wrote our meta page, if the commit wrote
			 * anything (an empty one writes nothing: the last
			 * txnid tells).
			 */
			store_txn_closed(st, b->seen,
			    st->sync == STORE_SYNC_FULL &&
			    mdb_env_info(st->env, &info) == 0 &&
			    (uint64_t)info.me_last_txnid >= id);
			__atomic_add_fetch(&st->lmdb_commits, 1,
			    __ATOMIC_RELAXED);
			pthread_mutex_lock(&st->sync_mtx);
			n = ++st->sync_committed;
			pthread_mutex_unlock(&st->sync_mtx);
		}
	}
	pthread_mutex_lock(&st->batch_mtx);
	b->rc = rc;
	b->done = true;
	want = b->want_sync && rc == 0 && n != 0 &&
	    st->sync != STORE_SYNC_NONE;
	pthread_cond_broadcast(&b->done_cond);
	pthread_mutex_unlock(&st->batch_mtx);

	src = want ? store_sync_wait(st, n) : 0;

	pthread_mutex_lock(&st->batch_mtx);
	b->sync_rc = src;
	b->synced = true;
	pthread_cond_broadcast(&b->sync_cond);
	if (ok && durable)
		*syncrc = src;
	store_batch_unref(b);
	pthread_mutex_unlock(&st->batch_mtx);
	return (store_err("commit", rc));
}

/*
 * Commit the nested t into its parent: what it wrote, the rings it
 * recorded and the wait it asked for become the parent's.
 */
static int
store_txn_commit_nested(struct store_txn *t, enum store_wait wait)
{
	struct store_txn	*p = t->parent;
	size_t			 i;
	int			 rc;

	if ((rc = mdb_txn_commit(t->txn)) == 0) {
		for (i = 0; i < t->nrings; i++)
			store_txn_ring(p, t->rings[i].instance,
			    t->rings[i].sid);
		if (wait > p->nest_wait)
			p->nest_wait = wait;
		for (i = 0; i < STORE_T_COUNT; i++)
			p->kv_stamp[i] = store_stamp_new();
	}
	store_txn_free(t);
	return (store_err("commit", rc));
}

static int
store_txn_commit_sync(struct store_txn *t, enum store_wait wait,
    struct store_ticket *later)
{
	struct store	*st = t->st;
	size_t		 i;
	uint64_t	 seen = 0;
	int		 rc, brc, src = 0;
	bool		 durable, seen_only;

	if (t->parent != NULL)
		return (store_txn_commit_nested(t, wait));
	if (t->nest_wait > wait)
		wait = t->nest_wait;
	rc = mdb_txn_commit(t->txn);
	if (!t->write) {
		store_txn_free(t);
		return (store_err("commit", rc));
	}
	if (rc != 0)
		rc = store_err("commit", rc);
	/*
	 * A ring announces data: it waits for the data.  A sync that fails
	 * (a disk that reports a full disk or an I/O error only at fsync)
	 * cannot undo the commit, which every process already sees:
	 * failing the request would have the client send again what will
	 * be delivered anyway.  So the commit stands, logged (store_err) as
	 * not known durable.
	 */
	/*
	 * STORE_WAIT_SEEN with full: the batch's commit flushes the data
	 * file under the writer lock before its meta page, and with it
	 * every commit this transaction could read, whatever process made
	 * it; only this transaction's own writes wait for a later sync.
	 */
	seen_only = wait == STORE_WAIT_SEEN && st->sync == STORE_SYNC_FULL &&
	    t->nrings == 0;
	durable = st->sync != STORE_SYNC_NONE && !seen_only &&
	    (wait != STORE_WAIT_VISIBLE || t->nrings > 0);
	if (t->batch != NULL)
		seen = t->batch->seen;
	brc = store_batch_finish(t, rc == 0, durable && later == NULL, &src);
	if (rc == 0)
		rc = brc;
	if (rc != 0) {
		store_txn_free(t);
		return (rc);
	}
	__atomic_add_fetch(&st->commits, 1, __ATOMIC_RELAXED);
	if (later != NULL) {
		/* Visible now; the wait and the rings are the ticket's. */
		memset(later, 0, sizeof(*later));
		later->st = st;
		later->wait = durable || seen_only;
		if (durable) {
			pthread_mutex_lock(&st->sync_mtx);
			later->n = st->sync_committed;
			pthread_mutex_unlock(&st->sync_mtx);
		} else
			later->n = seen;
		later->rings = t->rings;
		later->nrings = t->nrings;
		t->rings = NULL;
		t->nrings = 0;
		store_txn_free(t);
		return (0);
	}
	if (seen_only)
		/* At once, unless the batch wrote nothing and flushed not. */
		src = store_sync_wait(st, seen);
	if ((durable || seen_only) && src != 0)
		log_warnx("store: a commit is visible but its sync "
		    "failed: it may not survive a power failure");
	for (i = 0; i < t->nrings; i++)
		bell_ring(t->rings[i].instance, t->rings[i].sid);
	store_txn_free(t);
	return (0);
}

void
store_txn_nest(struct store_txn *parent)
{
	store_nest_parent = parent;
}

int
store_txn_commit(struct store_txn *t)
{
	return (store_txn_commit_sync(t, STORE_WAIT_DURABLE, NULL));
}

int
store_txn_commit_seen(struct store_txn *t)
{
	return (store_txn_commit_sync(t, STORE_WAIT_SEEN, NULL));
}

int
store_txn_commit_later(struct store_txn *t, struct store_ticket *tk)
{
	memset(tk, 0, sizeof(*tk));
	if (t->parent != NULL || !t->write)
		return (store_txn_commit_sync(t, STORE_WAIT_SEEN, NULL));
	return (store_txn_commit_sync(t, STORE_WAIT_SEEN, tk));
}

int
store_ticket_settle(struct store_ticket *tk)
{
	size_t	i;
	int	rc = 0;

	if (tk->st != NULL && tk->wait &&
	    (rc = store_sync_wait(tk->st, tk->n)) != 0)
		log_warnx("store: a commit is visible but its sync "
		    "failed: it may not survive a power failure");
	for (i = 0; i < tk->nrings; i++)
		bell_ring(tk->rings[i].instance, tk->rings[i].sid);
	free(tk->rings);
	memset(tk, 0, sizeof(*tk));
	return (rc);
}

int
store_txn_commit_nowait(struct store_txn *t)
{
	return (store_txn_commit_sync(t, STORE_WAIT_VISIBLE, NULL));
}

void
store_txn_abort(struct store_txn *t)
{
	int	src;

	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	/* The leader commits the others' work all the same. */
	if (t->write && t->parent == NULL)
		(void)store_batch_finish(t, false, false, &src);
	store_txn_free(t);
}

void
store_txn_ring(struct store_txn *t, uint64_t instance, const char *sid)
{
	size_t	i;

	if (instance == 0 || strlen(sid) > STORE_SID_MAX)
		return;
	for (i = 0; i < t->nrings; i++) {
		if (t->rings[i].instance == instance &&
		    strcmp(t->rings[i].sid, sid) == 0)
			return;
	}
	if (t->nrings == t->szrings) {
		t->szrings = t->szrings == 0 ? 4 : t->szrings * 2;
		t->rings = xreallocarray(t->rings, t->szrings,
		    sizeof(*t->rings));
	}
	t->rings[t->nrings].instance = instance;
	strcpy(t->rings[t->nrings].sid, sid);
	t->nrings++;
}

/* Session records. */

static int
store_sid_val(const char *sid, MDB_val *v)
{
	size_t	len = strlen(sid);

	if (len == 0 || len > STORE_SID_MAX)
		return (-EINVAL);
	v->mv_data = (void *)sid;
	v->mv_size = len;
	return (0);
}

int
store_session_get(struct store_txn *t, const char *sid,
    struct store_session *s)
{
	MDB_val	k, v;
	int	rc;

	if ((rc = store_sid_val(sid, &k)) != 0)
		return (rc == -EINVAL ? -ENOENT : rc);
	if ((rc = mdb_get(t->txn, t->st->sessions, &k, &v)) != 0)
		return (store_err("session_get", rc));
	if (v.mv_size != sizeof(*s)) {
		log_error("store: session record of %zu bytes, expected %zu",
		    v.mv_size, sizeof(*s));
		return (-EIO);
	}
	memcpy(s, v.mv_data, sizeof(*s));
	if (s->version != STORE_SESSION_VERSION) {
		log_error("store: session record version %u", s->version);
		return (-EIO);
	}
	return (0);
}

int
store_session_put(struct store_txn *t, const char *sid,
    const struct store_session *s, bool create)
{
	MDB_val	k, v;
	int	rc;

	if ((rc = store_sid_val(sid, &k)) != 0)
		return (rc);
	v.mv_data = (void *)s;
	v.mv_size = sizeof(*s);
	rc = mdb_put(t->txn, t->st->sessions, &k, &v,
	    create ? MDB_NOOVERWRITE : 0);
	return (store_err("session_put", rc));
}

/* Timer index keys: big-endian deadline, then the sid. */
static size_t
store_timer_key(char *key, int64_t deadline, const char *sid)
{
	uint64_t	d = (uint64_t)deadline;
	size_t		len = strlen(sid);
	int		i;

	for (i = 7; i >= 0; i--) {
		key[i] = (char)(d & 0xff);
		d >>= 8;
	}
	memcpy(key + 8, sid, len);
	return (8 + len);
}

int
store_session_set_timer(struct store_txn *t, const char *sid,
    struct store_session *s, int64_t deadline)
{
	char	key[8 + STORE_SID_MAX];
	MDB_val	k, v;
	int	rc;

	if (strlen(sid) > STORE_SID_MAX)
		return (-EINVAL);
	if (s->timer == deadline)
		return (0);
	if (s->timer != 0) {
		k.mv_data = key;
		k.mv_size = store_timer_key(key, s->timer, sid);
		rc = mdb_del(t->txn, t->st->timers, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (store_err("timer_del", rc));
	}
	s->timer = 0;
	if (deadline != 0) {
		k.mv_data = key;
		k.mv_size = store_timer_key(key, deadline, sid);
		v.mv_data = NULL;
		v.mv_size = 0;
		if ((rc = mdb_put(t->txn, t->st->timers, &k, &v, 0)) != 0)
			return (store_err("timer_put", rc));
		s->timer = deadline;
	}
	return (0);
}

int
store_session_del(struct store_txn *t, const char *sid,
    const struct store_session *s)
{
	struct store_session	 copy = *s;
	MDB_val			 k;
	int			 rc;

	if ((rc = store_session_set_timer(t, sid, &copy, 0)) != 0)
		return (rc);
	if ((rc = store_queue_trim(t, sid, s->q_head, s->q_tail)) != 0)
		return (rc);
	if ((rc = store_sid_val(sid, &k)) != 0)
		return (rc);
	rc = mdb_del(t->txn, t->st->sessions, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return (0);
	return (store_err("session_del", rc));
}

int
store_session_count(struct store_txn *t, size_t *n)
{
	MDB_stat	ms;
	int		rc;

	if ((rc = mdb_stat(t->txn, t->st->sessions, &ms)) != 0)
		return (store_err("stat", rc));
	*n = ms.ms_entries;
	return (0);
}

/* Queue keys: sid length, sid, big-endian sequence. */
static size_t
store_queue_key(char *key, const char *sid, uint64_t seq)
{
	size_t	len = strlen(sid);
	int	i;

	key[0] = (char)len;
	memcpy(key + 1, sid, len);
	for (i = 7; i >= 0; i--) {
		key[1 + len + i] = (char)(seq & 0xff);
		seq >>= 8;
	}
	return (1 + len + 8);
}

/* The sequence number at the end of a queue key. */
static uint64_t
store_queue_key_seq(const MDB_val *k)
{
	const unsigned char	*p = (const unsigned char *)k->mv_data +
				    k->mv_size - 8;
	uint64_t		 seq = 0;
	size_t			 i;

	for (i = 0; i < 8; i++)
		seq = (seq << 8) | p[i];
	return (seq);
}

int
store_queue_push(struct store_txn *t, const char *sid,
    struct store_session *s, const void *pkt, size_t len)
{
	char	key[1 + STORE_SID_MAX + 8];
	MDB_val	k, v;
	int	rc;

	if (strlen(sid) > STORE_SID_MAX)
		return (-EINVAL);
	k.mv_data = key;
	k.mv_size = store_queue_key(key, sid, s->q_tail);
	v.mv_data = (void *)pkt;
	v.mv_size = len;
	if ((rc = mdb_put(t->txn, t->st->queue, &k, &v, 0)) != 0)
		return (store_err("queue_push", rc));
	s->q_tail++;
	return (0);
}

int
store_queue_read(struct store_txn *t, const char *sid, uint64_t from,
    uint64_t to, struct buf *out)
{
	char		 key[1 + STORE_SID_MAX + 8];
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 seq;
	size_t		 klen;
	int		 rc;

	if (from >= to)
		return (0);
	if (strlen(sid) > STORE_SID_MAX)
		return (-EINVAL);
	if ((rc = mdb_cursor_open(t->txn, t->st->queue, &c)) != 0)
		return (store_err("cursor_open", rc));
	k.mv_data = key;
	k.mv_size = klen = store_queue_key(key, sid, from);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size != klen || memcmp(k.mv_data, key, klen - 8) != 0)
			break;
		seq = store_queue_key_seq(&k);
		if (seq >= to)
			break;
		if (out->len > 0)
			buf_append_char(out, '\x1e');
		buf_append(out, v.mv_data, v.mv_size);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_err("queue_read", rc));
	return (0);
}

int
store_queue_trim(struct store_txn *t, const char *sid, uint64_t from,
    uint64_t to)
{
	char		 key[1 + STORE_SID_MAX + 8];
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 seq;
	size_t		 klen;
	int		 rc;

	if (from >= to)
		return (0);
	if (strlen(sid) > STORE_SID_MAX)
		return (-EINVAL);
	if ((rc = mdb_cursor_open(t->txn, t->st->queue, &c)) != 0)
		return (store_err("cursor_open", rc));
	klen = store_queue_key(key, sid, from);
	for (;;) {
		/* After a delete, look the next one up again from the key. */
		k.mv_data = key;
		k.mv_size = klen;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (k.mv_size != klen || memcmp(k.mv_data, key, klen - 8) != 0)
			break;
		seq = store_queue_key_seq(&k);
		if (seq >= to)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_err("queue_trim", rc));
	return (0);
}

int
store_timer_due(struct store_txn *t, int64_t now, size_t max,
    int (*fn)(struct store_txn *, const char *, void *), void *arg)
{
	char		 key[8 + STORE_SID_MAX];
	char		 sid[STORE_SID_MAX + 1];
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 d;
	size_t		 n = 0, i;
	int		 rc;

	while (n < max) {
		if ((rc = mdb_cursor_open(t->txn, t->st->timers, &c)) != 0)
			return (store_err("cursor_open", rc));
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0 && (k.mv_size < 9 ||
		    k.mv_size > sizeof(key))) {
			/* Not ours: drop it rather than loop on it. */
			rc = mdb_cursor_del(c, 0);
			mdb_cursor_close(c);
			if (rc != 0)
				return (store_err("timer_del", rc));
			continue;
		}
		if (rc != 0) {
			mdb_cursor_close(c);
			if (rc == MDB_NOTFOUND)
				break;
			return (store_err("timer_first", rc));
		}
		memcpy(key, k.mv_data, k.mv_size);
		mdb_cursor_close(c);
		d = 0;
		for (i = 0; i < 8; i++)
			d = (d << 8) | (unsigned char)key[i];
		if ((int64_t)d > now)
			break;
		memcpy(sid, key + 8, k.mv_size - 8);
		sid[k.mv_size - 8] = '\0';
		n++;
		if ((rc = fn(t, sid, arg)) != 0)
			return (rc);
		/*
		 * fn must move or remove the entry; if it left it, remove
		 * it so that the loop ends.
		 */
		k.mv_data = key;
		k.mv_size = 8 + strlen(sid);
		rc = mdb_del(t->txn, t->st->timers, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (store_err("timer_del", rc));
	}
	return ((int)n);
}

int
store_lease_take(struct store *st, const char *name, int64_t now,
    int64_t ttl)
{
	struct store_lease	 l;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int			 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return (store_err("txn_begin", rc));
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(l)) {
		memcpy(&l, v.mv_data, sizeof(l));
		mdb_txn_abort(txn);
		if (l.instance != st->instance && l.until > now &&
		    bell_is_alive(l.instance))
			return (0);
		/* Ours and far from expiry: nothing to write. */
		if (l.instance == st->instance && l.until - now > ttl / 2)
			return (1);
	} else {
		mdb_txn_abort(txn);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (store_err("lease_get", rc));
	}

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return (store_err("txn_begin", rc));
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(l)) {
		memcpy(&l, v.mv_data, sizeof(l));
		if (l.instance != st->instance && l.until > now &&
		    bell_is_alive(l.instance)) {
			mdb_txn_abort(txn);
			return (0);
		}
	}
	l.instance = st->instance;
	l.until = now + ttl;
	v.mv_data = &l;
	v.mv_size = sizeof(l);
	if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		return (store_err("lease_put", rc));
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (store_err("commit", rc));
	return (1);
}

/* Generic tables. */

static int
store_kv_key(enum store_table tb, const void *key, size_t klen, MDB_val *k)
{
	if ((unsigned)tb >= STORE_T_COUNT || klen == 0 ||
	    klen > STORE_KEY_MAX)
		return (-EINVAL);
	k->mv_data = (void *)key;
	k->mv_size = klen;
	return (0);
}

int
store_kv_get(struct store_txn *t, enum store_table tb, const void *key,
    size_t klen, struct buf *val)
{
	MDB_val	k, v;
	int	rc;

	if ((rc = store_kv_key(tb, key, klen, &k)) != 0)
		return (rc);
	if ((rc = mdb_get(t->txn, t->st->kv[tb], &k, &v)) != 0)
		return (store_err("kv_get", rc));
	buf_reset(val);
	buf_append(val, v.mv_data, v.mv_size);
	return (0);
}

int
store_kv_put(struct store_txn *t, enum store_table tb, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val	k, v;
	int	rc;

	if ((rc = store_kv_key(tb, key, klen, &k)) != 0)
		return (rc);
	v.mv_data = (void *)val;
	v.mv_size = vlen;
	t->kv_stamp[tb] = store_stamp_new();
	return (store_err("kv_put", mdb_put(t->txn, t->st->kv[tb], &k, &v,
	    0)));
}

int
store_kv_del(struct store_txn *t, enum store_table tb, const void *key,
    size_t klen)
{
	MDB_val	k;
	int	rc;

	if ((rc = store_kv_key(tb, key, klen, &k)) != 0)
		return (rc);
	t->kv_stamp[tb] = store_stamp_new();
	return (store_err("kv_del", mdb_del(t->txn, t->st->kv[tb], &k,
	    NULL)));
}

uint64_t
store_kv_stamp(struct store_txn *t, enum store_table tb)
{
	return ((unsigned)tb < STORE_T_COUNT ? t->kv_stamp[tb] : 0);
}

/* Walk keys from start (or the first key) while they begin with prefix. */
static int
store_kv_walk(struct store_txn *t, enum store_table tb, const void *start,
    size_t slen, const void *prefix, size_t plen,
    int (*fn)(void *, const void *, size_t, const void *, size_t), void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc, r = 0;

	if ((unsigned)tb >= STORE_T_COUNT || plen > STORE_KEY_MAX ||
	    slen > STORE_KEY_MAX)
		return (-EINVAL);
	if ((rc = mdb_cursor_open(t->txn, t->st->kv[tb], &c)) != 0)
		return (store_err("cursor_open", rc));
	if (slen > 0) {
		k.mv_data = (void *)start;
		k.mv_size = slen;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((r = fn(arg, k.mv_data, k.mv_size, v.mv_data,
		    v.mv_size)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r < 0)
		return (r);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_err("kv_scan", rc));
	return (0);
}

int
store_kv_scan(struct store_txn *t, enum store_table tb, const void *prefix,
    size_t plen, int (*fn)(void *, const void *, size_t, const void *,
    size_t), void *arg)
{
	return (store_kv_walk(t, tb, prefix, plen, prefix, plen, fn, arg));
}

int
store_kv_scan_from(struct store_txn *t, enum store_table tb,
    const void *from, size_t flen, int (*fn)(void *, const void *, size_t,
    const void *, size_t), void *arg)
{
	return (store_kv_walk(t, tb, from, flen, NULL, 0, fn, arg));
}
