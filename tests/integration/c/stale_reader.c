/*
 * A process that takes an LMDB reader slot and keeps it, for the
 * storage-fault tests: it opens the environment DIR as sio-fcgi does
 * (MDB_NOTLS, the same maxreaders), begins a read transaction, prints
 * "ready" and sleeps until it is killed.  Killed with SIGKILL, it leaves
 * its slot behind, as a crashed process would.
 *
 *	cc -o stale_reader stale_reader.c -llmdb
 *	stale_reader DIR MAXREADERS
 *
 * Exit status 1 with the LMDB error on stderr when it cannot (all slots
 * taken: MDB_READERS_FULL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lmdb.h>

int
main(int argc, char **argv)
{
	MDB_env	*env;
	MDB_txn	*txn;
	int	 rc;

	if (argc != 3) {
		fprintf(stderr, "usage: stale_reader DIR MAXREADERS\n");
		return (2);
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 32)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env,
	    (unsigned int)strtoul(argv[2], NULL, 10))) != 0 ||
	    (rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
		fprintf(stderr, "stale_reader: %s\n", mdb_strerror(rc));
		return (1);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
