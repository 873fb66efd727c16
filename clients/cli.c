/* The jit command line's shared core (see cli.h). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clients/cli.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/safetext.h"
#include "common/secret.h"
#include "common/timefmt.h"
#include "common/tty.h"

#define ANSWER_MAX	(16 * 1024 * 1024)
#define SESSION_FILE	"session.json"
#define SAFE_RING	32	/* cli_safe strings alive at once */

const char *
cli_safe(const char *s)
{
	static char *ring[SAFE_RING];
	static size_t next;
	char *t;

	if ((t = safetext_term(s)) == NULL)
		return "(out of memory)";
	free(ring[next]);
	ring[next] = t;
	next = (next + 1) % SAFE_RING;
	return t;
}

void
cli_errx(struct cli *c, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	if ((n = vasprintf(&msg, fmt, ap)) < 0)
		msg = NULL;
	va_end(ap);
	/* Messages quote the broker's answers: no escapes reach a tty. */
	fprintf(stderr, "%s: %s\n", c->prog != NULL ? c->prog : "jit",
	    n >= 0 ? cli_safe(msg) : "(out of memory)");
	free(msg);
}

static char *
path_in_home(const struct cli *c, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", c->home, name) == -1)
		return NULL;
	return p;
}

static char *
dupstr(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
cli_init(struct cli *c)
{
	const char *h, *u;
	struct passwd *pw;
	char *p = NULL;
	uint8_t *d = NULL;
	size_t len = 0;
	json_t *s;

	memset(c, 0, sizeof(*c));
	c->prog = "jit";
	if ((h = getenv("JIT_HOME")) != NULL && *h != '\0')
		c->home = strdup(h);
	else {
		if ((h = getenv("HOME")) == NULL || *h == '\0')
			h = (pw = getpwuid(getuid())) != NULL ? pw->pw_dir :
			    "/";
		if (asprintf(&c->home, "%s/.config/jit", h) == -1)
			c->home = NULL;
	}
	if (c->home == NULL)
		return -1;
	if ((p = path_in_home(c, SESSION_FILE)) != NULL &&
	    fileio_read(p, 64 * 1024, FILEIO_NOFOLLOW, &d, &len) == JIT_OK &&
	    (s = json_loadb((char *)d, len, 0, NULL)) != NULL) {
		c->url = dupstr(json_string_value(json_object_get(s, "url")));
		c->user = dupstr(json_string_value(json_object_get(s,
		    "user")));
		c->token = dupstr(json_string_value(json_object_get(s,
		    "token")));
		c->ca_file = dupstr(json_string_value(json_object_get(s,
		    "ca_file")));
		c->expires_at = json_integer_value(json_object_get(s,
		    "expires_at"));
		json_decref(s);
	}
	if (d != NULL)
		freezero(d, len + 1);
	free(p);
	if ((u = getenv("JIT_URL")) != NULL && *u != '\0') {
		free(c->url);
		c->url = strdup(u);
	}
	if (c->url == NULL)
		c->url = strdup("http://127.0.0.1:8787");
	return c->url != NULL ? 0 : -1;
}

void
cli_free(struct cli *c)
{
	free(c->home);
	free(c->url);
	free(c->ca_file);
	free(c->user);
	strfreezero(c->token);
	memset(c, 0, sizeof(*c));
}

int
cli_ensure_home(struct cli *c)
{
	struct stat st;
	char *p, *slash;

	if (stat(c->home, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			cli_errx(c, "%s is not a directory", c->home);
			return -1;
		}
		if ((st.st_mode & 077) != 0 && chmod(c->home, 0700) == -1) {
			cli_errx(c, "%s: %s", c->home, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* Create parents (e.g. ~/.config) as needed, the last one 0700. */
	if ((p = strdup(c->home)) == NULL)
		return -1;
	for (slash = p + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		(void)mkdir(p, 0755);
		*slash = '/';
	}
	free(p);
	if (mkdir(c->home, 0700) == -1 && errno != EEXIST) {
		cli_errx(c, "%s: %s", c->home, strerror(errno));
		return -1;
	}
	return 0;
}

int
cli_save_session(struct cli *c)
{
	json_t *s;
	char *text = NULL, *p = NULL;
	int r;

	if (cli_ensure_home(c) != 0)
		return -1;
	s = json_pack("{s:s,s:s?,s:s?,s:I,s:s?}", "url", c->url, "user",
	    c->user, "token", c->token, "expires_at",
	    (json_int_t)c->expires_at, "ca_file", c->ca_file);
	if (s == NULL || (text = json_dumps(s, JSON_INDENT(1))) == NULL ||
	    (p = path_in_home(c, SESSION_FILE)) == NULL) {
		json_decref(s);
		free(text);
		return -1;
	}
	r = fileio_write_atomic(p, text, strlen(text), 0600);
	if (r != JIT_OK)
		cli_errx(c, "%s: %s", p, r == JIT_ERR_SYSTEM ? strerror(errno) :
		    jit_strerror(r));
	json_decref(s);
	strfreezero(text);
	free(p);
	return r == JIT_OK ? 0 : -1;
}

void
cli_forget_session(struct cli *c)
{
	char *p = path_in_home(c, SESSION_FILE);

	if (p != NULL)
		unlink(p);
	free(p);
	strfreezero(c->token);
	c->token = NULL;
}

char *
cli_prompt(const char *prompt, int echo)
{
	char *s = NULL, buf[512];
	FILE *tty;
	size_t n;

	if (!echo)
		return tty_read_secret(prompt, 1024, &s) == JIT_OK ? s : NULL;
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return NULL;
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(buf, sizeof(buf), tty) != NULL) {
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		s = strdup(buf);
	}
	fclose(tty);
	return s;
}

struct sink {
	char	*p;
	size_t	 len;
};

static size_t
sink_write(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	char *np;

	if (s->len + add > ANSWER_MAX)
		return 0;
	if ((np = realloc(s->p, s->len + add + 1)) == NULL)
		return 0;
	memcpy(np + s->len, data, add);
	s->len += add;
	np[s->len] = '\0';
	s->p = np;
	return add;
}

/* One HTTP exchange; returns the status or 0 with a message printed. */
static long
http_once(struct cli *c, const char *method, const char *path,
    const char *body, int auth, struct sink *out)
{
	struct curl_slist *h = NULL;
	char url[2048], hdr[256];
	CURL *curl;
	CURLcode rc;
	long status = 0;

	if (snprintf(url, sizeof(url), "%s%s", c->url, path) >=
	    (int)sizeof(url)) {
		cli_errx(c, "URL too long");
		return 0;
	}
	if ((curl = curl_easy_init()) == NULL)
		return 0;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file != NULL) {
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	}
	if (auth && c->token != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
		    c->token);
		h = curl_slist_append(h, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
	} else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	else
		cli_errx(c, "cannot reach %s: %s", c->url,
		    curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return status;
}

long
cli_call_raw(struct cli *c, const char *method, const char *path, int auth,
    char **raw, size_t *rawlen)
{
	struct sink s = { NULL, 0 };
	long st;

	*raw = NULL;
	*rawlen = 0;
	if (auth && c->token == NULL) {
		cli_errx(c, "not logged in: run 'jit login'");
		return 0;
	}
	st = http_once(c, method, path, NULL, auth, &s);
	*raw = s.p;
	*rawlen = s.len;
	return st;
}

/* Asks for a code (or uses --otp) and steps up; returns 1 on success. */
static int
step_up(struct cli *c)
{
	struct sink s = { NULL, 0 };
	char *code = NULL, *body = NULL;
	json_t *b;
	long st;

	if (c->otp != NULL)
		code = strdup(c->otp);
	else {
		fprintf(stderr, "%s: this needs a fresh one-time code\n",
		    c->prog);
		code = cli_prompt("One-time code: ", 0);
	}
	if (code == NULL) {
		cli_errx(c, "a fresh one-time code is required (use --otp "
		    "CODE when there is no terminal)");
		return 0;
	}
	b = json_pack("{s:s}", "otp", code);
	body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	strfreezero(code);
	st = body != NULL ? http_once(c, "POST", "/v1/mfa", body, 1, &s) : 0;
	strfreezero(body);
	free(s.p);
	if (st != 200) {
		if (st != 0)
			cli_errx(c, "the code was not accepted");
		return 0;
	}
	return 1;
}

long
cli_call(struct cli *c, const char *method, const char *path, json_t *body,
    int auth, json_t **out)
{
	struct sink s;
	char *text = NULL;
	json_t *ans = NULL;
	long st;
	int tries;

	if (out != NULL)
		*out = NULL;
	if (auth && c->token == NULL) {
		cli_errx(c, "not logged in: run 'jit login'");
		return 0;
	}
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		return 0;
	for (tries = 0; tries < 2; tries++) {
		memset(&s, 0, sizeof(s));
		st = http_once(c, method, path, text, auth, &s);
		json_decref(ans);
		ans = s.p != NULL ? json_loadb(s.p, s.len, 0, NULL) : NULL;
		free(s.p);
		if (st == 401 && auth && tries == 0 && ans != NULL &&
		    strcmp(json_string_value(json_object_get(ans, "error")) !=
		    NULL ? json_string_value(json_object_get(ans, "error")) :
		    "", "mfa_required") == 0 && step_up(c))
			continue;
		break;
	}
	strfreezero(text);
	if (out != NULL)
		*out = ans;
	else
		json_decref(ans);
	return st;
}

int
cli_fail_answer(struct cli *c, long status, json_t *answer)
{
	const char *msg, *code;

	if (status == 0)
		return CLI_EXIT_FAIL;
	if (c->json && answer != NULL) {
		cli_print_json(answer);
		return CLI_EXIT_FAIL;
	}
	msg = json_string_value(json_object_get(answer, "message"));
	code = json_string_value(json_object_get(answer, "error"));
	if (status == 401 && code != NULL && strcmp(code, "unauthorized") ==
	    0 && msg != NULL && strstr(msg, "session token") != NULL)
		cli_errx(c, "%s (run 'jit login')", msg);
	else
		cli_errx(c, "%s (HTTP %ld%s%s)", msg != NULL ? msg :
		    "request failed", status, code != NULL ? ", " : "",
		    code != NULL ? code : "");
	return CLI_EXIT_FAIL;
}

int
cli_fail_consume(struct cli *c, long status, json_t *answer)
{
	int rc = cli_fail_answer(c, status, answer);

	json_decref(answer);
	return rc;
}

void
cli_print_json(json_t *j)
{
	/* ASCII only: control and bidi characters come out \u-escaped. */
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

void
cli_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d %H:%MZ", &tm) == 0)
		snprintf(out, len, "-");
}

void
cli_left(int64_t secs, char *out, size_t len)
{
	if (secs <= 0)
		snprintf(out, len, "expired");
	else if (secs < 60)
		snprintf(out, len, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(out, len, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, len, "%lldh%02lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
}
