/*
 * Certificates under a grant, and the CA's public material.  Issuance
 * signs outside the transaction, then hands the certificate row and its
 * audit event to the group-commit writer without parking the HTTP thread
 * (the connection is suspended and resumed when the commit lands); the
 * transaction re-checks the grant on fresh facts, so a certificate is
 * never sent for a grant revoked meanwhile, and never sent before it is
 * recorded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "broker/api.h"
#include "broker/requests.h"
#include "ca/krl.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "ca/x509.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/limits.h"

struct issue_job {
	struct http_req		*rq;
	const struct config	*cfg;
	int64_t			 id;
	struct store_cert	 cert;
	json_t			*answer;	/* sent after the commit */
	int			 refused;
	const char		*why;
};

static int
issue_tx(struct store_tx *tx, void *arg)
{
	struct issue_job *j = arg;
	struct store_request r;
	struct wf_request f;
	struct wf_actor a;
	struct wf_result res;
	char target[48];
	json_t *d;
	int rc;

	j->refused = 0;
	if ((rc = store_tx_request_get(tx, j->id, &r)) != JIT_OK)
		return rc;
	req_facts(&r, &f);
	memset(&a, 0, sizeof(a));
	a.user = j->cert.user;
	req_target(r.id, target, sizeof(target));
	/* The grant must still be live now, and cover the certificate. */
	if (wf_apply(&f, WF_EV_ISSUE, &a, store_tx_now(tx), &res) != JIT_OK ||
	    j->cert.valid_before > r.grant_end || r.extends > 0) {
		j->refused = res.err != JIT_OK ? res.err : JIT_ERR_CONFLICT;
		j->why = res.err != JIT_OK ? res.why : "the grant changed";
		d = json_pack("{s:s,s:s}", "kind", j->cert.kind, "why",
		    j->why);
		rc = d == NULL ? JIT_ERR_ALLOC : store_tx_audit(tx,
		    j->cert.user, "cert.issue", target, "refused", d);
		json_decref(d);
		return rc;
	}
	if ((rc = store_tx_cert_insert(tx, &j->cert)) != JIT_OK)
		return rc;
	d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "kind", j->cert.kind,
	    "serial", j->cert.serial, "fingerprint", j->cert.fingerprint,
	    "subject", j->cert.subject, "valid_after",
	    (json_int_t)j->cert.valid_after, "valid_before",
	    (json_int_t)j->cert.valid_before);
	if (d == NULL)
		return JIT_ERR_ALLOC;
	rc = store_tx_audit(tx, j->cert.user, "cert.issue", target, "ok", d);
	json_decref(d);
	return rc;
}

static void
refusal(struct http_req *rq, int err, const char *why)
{
	if (err == JIT_ERR_PERMISSION)
		http_error(rq, 403, "forbidden", "%s", why);
	else if (err == JIT_ERR_EXPIRED)
		http_error(rq, 410, "expired", "%s", why);
	else
		http_error(rq, 409, "conflict", "%s", why);
}

/* Runs on the writer thread once the commit is decided. */
static void
issue_done(void *arg, int result)
{
	struct issue_job *j = arg;
	struct http_req *rq = j->rq;

	if (result != JIT_OK)
		http_error_code(rq, result);
	else if (j->refused != 0)
		refusal(rq, j->refused, j->why);
	else {
		http_json(rq, 200, j->answer);
		j->answer = NULL;
	}
	json_decref(j->answer);
	free(j);
	http_resume(rq);
}

/*
 * Common checks before signing: the caller's own request, a live grant,
 * and the role.  Fills *r and returns the role, or answers and returns
 * NULL.
 */
static const struct policy_role *
grant_for(struct http_req *rq, struct store_request *r)
{
	const struct policy_role *role;
	struct wf_request f;
	struct wf_actor a;
	struct wf_result res;
	int64_t id;
	int rc;

	if ((id = req_parse_id(rq->params[0])) == 0 ||
	    (rc = store_request_get(rq->srv->store, id, r)) ==
	    JIT_ERR_NOT_FOUND || (rc == JIT_OK && !req_visible(rq->cfg, r,
	    rq->auth.user.name, rq->auth.user.groups))) {
		http_error(rq, 404, "not_found", "no such request");
		return NULL;
	}
	if (rc != JIT_OK) {
		http_error_code(rq, rc);
		return NULL;
	}
	/*
	 * An extension only moves its grant's end: certificates are issued
	 * under the grant itself, which a revoke then covers.
	 */
	if (r->extends > 0) {
		http_error(rq, 409, "conflict", "request %lld extends request "
		    "%lld: ask for certificates under %lld", (long long)r->id,
		    (long long)r->extends, (long long)r->extends);
		return NULL;
	}
	req_facts(r, &f);
	memset(&a, 0, sizeof(a));
	a.user = rq->auth.user.name;
	if (wf_apply(&f, WF_EV_ISSUE, &a, jit_now(), &res) != JIT_OK) {
		refusal(rq, res.err, res.why);
		return NULL;
	}
	if ((role = policy_find(rq->cfg->policy, r->role)) == NULL) {
		http_error(rq, 409, "conflict", "the role no longer exists");
		return NULL;
	}
	return role;
}

/* Enqueues the record job and suspends the request until it commits. */
static void
record_async(struct http_req *rq, struct issue_job *j)
{
	int rc;

	j->rq = rq;
	http_suspend(rq);
	if ((rc = store_write_async(rq->srv->store, issue_tx, j, issue_done,
	    j)) != JIT_OK)
		issue_done(j, rc);
}

void
api_ssh_cert(struct http_req *rq)
{
	static const char *const fields[] = { "public_key", NULL };
	const struct policy_role *role;
	struct store_request *r = NULL;
	struct ca_ssh_cert_req creq;
	struct ca_ssh_ext ext[JIT_EXTENSIONS_MAX + 1];
	struct ca_sshkey *key = NULL;
	struct ca_ssh_cert *cert = NULL;
	struct issue_job *j = NULL;
	const char *pk;
	char keyid[160], grant_end[24], *line = NULL;
	int64_t now;
	size_t i, n = 0, len;
	int rc;

	if (http_require_fresh_mfa(rq) != 0 ||
	    http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "public_key", 1, JIT_PUBKEY_LINE_MAX,
	    &pk) != 0)
		return;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	if ((role = grant_for(rq, r)) == NULL)
		goto out;
	if (!role->has_ssh) {
		http_error(rq, 400, "invalid_request", "role \"%s\" grants no "
		    "SSH access", role->name);
		goto out;
	}
	len = strlen(pk);
	if ((rc = ca_sshkey_parse_line(pk, len, &key)) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "\"public_key\" is not "
		    "an acceptable OpenSSH public key: %s", jit_strerror(rc));
		goto out;
	}
	now = jit_now();
	memset(&creq, 0, sizeof(creq));
	creq.type = CA_SSH_CERT_USER;
	creq.subject = key;
	creq.serial = ca_ssh_random_serial();
	snprintf(keyid, sizeof(keyid), "jitd:%s:%lld:%" PRIu64, r->user,
	    (long long)r->id, creq.serial);
	creq.key_id = keyid;
	creq.principals = (const char *const *)role->ssh_principals;
	creq.nprincipals = role->nssh_principals;
	creq.valid_after = (uint64_t)(now - JIT_CLOCK_SKEW);
	creq.valid_before = (uint64_t)(now + rq->cfg->cert_ttl <
	    r->grant_end ? now + rq->cfg->cert_ttl : r->grant_end);
	creq.force_command = role->ssh_force_command;
	creq.source_address = role->ssh_source_address;
	for (i = 0; i < role->nssh_extensions && n < JIT_EXTENSIONS_MAX; i++) {
		ext[n].name = role->ssh_extensions[i];
		ext[n++].value = NULL;
	}
	/* The grant's end, for jit-session on the server. */
	snprintf(grant_end, sizeof(grant_end), "%lld",
	    (long long)r->grant_end);
	ext[n].name = "grant-expires@jitd";
	ext[n++].value = grant_end;
	creq.extensions = ext;
	creq.nextensions = n;
	if ((rc = ca_ssh_certify(rq->srv->ca, &creq, &cert)) != JIT_OK) {
		http_error_code(rq, rc == JIT_ERR_INVALID_ARG ? JIT_ERR_INTERNAL :
		    rc);
		goto out;
	}
	if ((line = ca_ssh_cert_to_line(cert, keyid)) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	j->id = r->id;
	snprintf(j->cert.kind, sizeof(j->cert.kind), "ssh");
	snprintf(j->cert.serial, sizeof(j->cert.serial), "%" PRIu64,
	    creq.serial);
	j->cert.request_id = r->id;
	snprintf(j->cert.user, sizeof(j->cert.user), "%s", r->user);
	ca_sshkey_fingerprint(key, j->cert.fingerprint,
	    sizeof(j->cert.fingerprint));
	j->cert.subject[0] = '\0';
	for (i = 0; i < role->nssh_principals; i++) {
		size_t off = strlen(j->cert.subject);

		snprintf(j->cert.subject + off, sizeof(j->cert.subject) - off,
		    "%s%s", i > 0 ? "," : "", role->ssh_principals[i]);
	}
	j->cert.valid_after = (int64_t)creq.valid_after;
	j->cert.valid_before = (int64_t)creq.valid_before;
	j->cert.issued_at = now;
	{
		json_t *pa = json_array();

		for (i = 0; i < role->nssh_principals; i++)
			json_array_append_new(pa,
			    json_string(role->ssh_principals[i]));
		j->answer = json_pack("{s:s,s:s,s:I,s:I,s:s,s:o,s:I}",
		    "certificate", line, "serial", j->cert.serial,
		    "valid_after", (json_int_t)creq.valid_after,
		    "valid_before", (json_int_t)creq.valid_before,
		    "key_id", keyid, "principals", pa,
		    "grant_end", (json_int_t)r->grant_end);
	}
	if (j->answer == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	record_async(rq, j);
	j = NULL;
 out:
	free(line);
	ca_ssh_cert_free(cert);
	ca_sshkey_free(key);
	if (j != NULL)
		json_decref(j->answer);
	free(j);
	free(r);
}

void
api_x509_cert(struct http_req *rq)
{
	static const char *const fields[] = { "csr", NULL };
	const struct policy_role *role;
	struct store_request *r = NULL;
	struct ca_x509_req xreq;
	struct ca_x509_cert *cert = NULL;
	struct issue_job *j = NULL;
	const char *csr;
	char uri[256];
	int64_t now, ttl;
	int rc;

	if (http_require_fresh_mfa(rq) != 0 ||
	    http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "csr", 1, JIT_CSR_MAX, &csr) != 0)
		return;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	if ((role = grant_for(rq, r)) == NULL)
		goto out;
	if (!role->has_x509) {
		http_error(rq, 400, "invalid_request", "role \"%s\" grants no "
		    "X.509 certificates", role->name);
		goto out;
	}
	now = jit_now();
	ttl = now + rq->cfg->cert_ttl < r->grant_end ? rq->cfg->cert_ttl :
	    r->grant_end - now;
	memset(&xreq, 0, sizeof(xreq));
	xreq.csr = (const uint8_t *)csr;
	xreq.csrlen = strlen(csr);
	xreq.cn = r->user;
	xreq.ou = role->x509_ou;
	if (role->x509_uri_san) {
		snprintf(uri, sizeof(uri), "jitd://%s/%s", role->name, r->user);
		xreq.uri = uri;
	}
	xreq.ttl = ttl;
	if ((rc = ca_x509_issue(rq->srv->ca, &xreq, &cert)) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "\"csr\" refused: %s",
		    jit_strerror(rc));
		goto out;
	}
	j->id = r->id;
	snprintf(j->cert.kind, sizeof(j->cert.kind), "x509");
	snprintf(j->cert.serial, sizeof(j->cert.serial), "%s",
	    ca_x509_cert_serial_hex(cert));
	j->cert.request_id = r->id;
	snprintf(j->cert.user, sizeof(j->cert.user), "%s", r->user);
	snprintf(j->cert.fingerprint, sizeof(j->cert.fingerprint), "%s",
	    ca_x509_cert_key_fingerprint(cert));
	snprintf(j->cert.subject, sizeof(j->cert.subject), "CN=%s%s%s",
	    r->user, role->x509_ou != NULL ? ",OU=" : "", role->x509_ou != NULL ?
	    role->x509_ou : "");
	j->cert.valid_after = (int64_t)ca_x509_cert_not_before(cert);
	j->cert.valid_before = (int64_t)ca_x509_cert_not_after(cert);
	j->cert.issued_at = now;
	j->answer = json_pack("{s:s,s:s,s:I,s:I,s:I}", "certificate",
	    ca_x509_cert_pem(cert), "serial", j->cert.serial, "not_before",
	    (json_int_t)j->cert.valid_after, "not_after",
	    (json_int_t)j->cert.valid_before, "grant_end",
	    (json_int_t)r->grant_end);
	if (j->answer == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	record_async(rq, j);
	j = NULL;
 out:
	ca_x509_cert_free(cert);
	if (j != NULL)
		json_decref(j->answer);
	free(j);
	free(r);
}

/* Answers raw bytes with a content type. */
static void
raw_answer(struct http_req *rq, const void *p, size_t len, const char *ct)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
	rq->mhd_resp = resp;
	rq->status = 200;
}

void
api_ca_ssh(struct http_req *rq)
{
	const char *fmt = http_query(rq, "format");
	char *line;

	if ((line = ca_ssh_pubkey_line(rq->srv->ca, CA_SLOT_SSH_USER,
	    "jitd user CA")) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	if (fmt != NULL && strcmp(fmt, "text") == 0)
		raw_answer(rq, line, strlen(line), "text/plain");
	else {
		line[strcspn(line, "\n")] = '\0';
		http_json(rq, 200, json_pack("{s:s}", "public_key", line));
	}
	free(line);
}

void
api_ca_x509(struct http_req *rq)
{
	char *pem;

	if ((pem = ca_x509_ca_pem(rq->srv->ca)) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	raw_answer(rq, pem, strlen(pem), "application/x-pem-file");
	free(pem);
}

void
api_ca_krl(struct http_req *rq)
{
	const char *sig = http_query(rq, "signed");
	uint64_t *serials = NULL;
	uint8_t *krl = NULL;
	size_t n = 0, len = 0;
	int64_t now = jit_now();
	int rc;

	if ((rc = store_revoked_ssh_serials(rq->srv->store, now, &serials,
	    &n)) != JIT_OK) {
		http_error_code(rq, rc);
		return;
	}
	rc = ca_krl_build(rq->srv->ca, serials, n, (uint64_t)now,
	    (uint64_t)now, "jitd", sig != NULL && strcmp(sig, "1") == 0,
	    &krl, &len);
	free(serials);
	if (rc != JIT_OK) {
		http_error_code(rq, rc);
		return;
	}
	raw_answer(rq, krl, len, "application/octet-stream");
	free(krl);
}
