/* Test instances on sqlite or PostgreSQL (see instdb.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "broker/instance.h"
#include "tests/lib/instdb.h"

char *
tu_pg_new_database(void)
{
	const char *admin = getenv("JIT_TEST_PG_URI");
	char name[48], sql[96], *uri, *slash;
	PGconn *c;
	PGresult *res;
	int ok;

	if (admin == NULL || *admin == '\0')
		return NULL;
	snprintf(name, sizeof(name), "jt_%ld_%08x", (long)getpid(),
	    randombytes_random());
	c = PQconnectdb(admin);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "JIT_TEST_PG_URI %s: %s",
	    admin, PQerrorMessage(c));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	ck_assert_msg(ok, "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	/* The admin URI with its database name replaced. */
	ck_assert_msg(strncmp(admin, "postgresql://", 13) == 0 &&
	    (slash = strchr(admin + 13, '/')) != NULL &&
	    strchr(slash, '?') == NULL,
	    "JIT_TEST_PG_URI must look like postgresql://USER@HOST:PORT/DB");
	ck_assert_int_ne(asprintf(&uri, "%.*s/%s", (int)(slash - admin),
	    admin, name), -1);
	return uri;
}

int
tu_instance_create(const char *dir, char **err)
{
	char *db = tu_pg_new_database();
	int r;

	r = instance_create(dir, NULL, db, err);
	free(db);
	return r;
}
