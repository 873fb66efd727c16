/*
 * Where the in-process tests keep an instance's data.  By default sqlite
 * (DIR/jitd.db), as `jitd init DIR` does.  With JIT_TEST_PG_URI set to a
 * PostgreSQL server's URI (any database the user may CREATE DATABASE
 * from, e.g. postgresql://jitd@127.0.0.1:PORT/postgres), every instance
 * gets a fresh database of its own on that server, so the same tests run
 * the workflow on PostgreSQL (tests/pg/check_pg_workflow does that in
 * make test).
 */
#ifndef JIT_TESTS_INSTDB_H
#define JIT_TESTS_INSTDB_H

/* instance_create(dir, NULL, database, err) with the database above. */
int tu_instance_create(const char *dir, char **err);

/*
 * A new empty database on the JIT_TEST_PG_URI server; returns its
 * malloc'd URI, or NULL (and fails the test) if that cannot be done.
 * Returns NULL without failing when JIT_TEST_PG_URI is not set.
 */
char *tu_pg_new_database(void);

#endif
