/*
 * The CA signer process (see signer_proc.h): the fork, the child's serve
 * loop with its re-checks of every to-be-signed body, and the parent's
 * remote signer that replaces the in-process one.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/signer_proc.h"
#include "ca/ssh_cert.h"
#include "ca/ssh_cert_int.h"
#include "common/err.h"
#include "common/krl_read.h"
#include "common/limits.h"

#define HARD_VALIDITY	((int64_t)JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW)
#define ANSWER_TIMEOUT	10	/* seconds the parent waits for an answer */

static const uint8_t krl_magic[8] = { 'S', 'S', 'H', 'K', 'R', 'L', '\n', 0 };

/* "string ssh-ed25519, string sig[64]" wrapped in a string, all zero sig. */
#define DUMMY_SIG_LEN	(4 + 4 + 11 + 4 + 64)

/* The parent's end: the remote signer. */
struct remote {
	pthread_mutex_t	 mu;
	int		 fd;
	pid_t		 pid;
	int		 dead;		/* no more answers will come */
	int		 reaped;
};

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_dummy_sig(uint8_t *p)
{
	memset(p, 0, DUMMY_SIG_LEN);
	put_u32(p, DUMMY_SIG_LEN - 4);
	put_u32(p + 4, 11);
	memcpy(p + 8, "ssh-ed25519", 11);
	put_u32(p + 19, 64);
}

static int
check_validity(const struct ca_signer_limits *lim, int64_t not_before,
    int64_t not_after, int64_t now)
{
	if (not_after <= not_before)
		return JIT_ERR_INVALID_FORMAT;
	if (not_after - not_before > lim->max_validity ||
	    not_after > now + lim->max_validity)
		return JIT_ERR_LIMIT;
	return JIT_OK;
}

/*
 * An OpenSSH certificate body: everything up to and including the
 * signature key.  A zero signature is appended so that the strict parser
 * can read it (without verifying the signature).
 */
static int
check_ssh_cert(struct ca *ca, const struct ca_signer_limits *lim,
    enum ca_slot slot, const uint8_t *body, size_t len, int64_t now)
{
	struct ca_ssh_cert_info *info = NULL;
	uint8_t *blob = NULL;
	int r = JIT_ERR_INTERNAL;

	if ((blob = malloc(len + DUMMY_SIG_LEN)) == NULL)
		return JIT_ERR_ALLOC;
	memcpy(blob, body, len);
	put_dummy_sig(blob + len);
	/* Also checks that the signature key is this slot's CA key. */
	if ((r = ca_ssh_cert_parse_int(blob, len + DUMMY_SIG_LEN,
	    ca_ssh_pubkey(ca, slot), 0, &info)) != JIT_OK)
		goto out;
	r = JIT_ERR_POLICY;
	if (info->type != (slot == CA_SLOT_SSH_HOST ? CA_SSH_CERT_HOST :
	    CA_SSH_CERT_USER))
		goto out;
	if (info->nprincipals == 0 || info->key_id[0] == '\0' ||
	    info->serial == 0)
		goto out;
	if (info->valid_after > INT64_MAX || info->valid_before > INT64_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	r = check_validity(lim, (int64_t)info->valid_after,
	    (int64_t)info->valid_before, now);
 out:
	ca_ssh_cert_info_free(info);
	free(blob);
	return r;
}

/*
 * A KRL body: header and sections up to and including one final signature
 * section header that names the user CA key.
 */
static int
check_krl(struct ca *ca, enum ca_slot slot, const uint8_t *body, size_t len)
{
	uint8_t cablob[CA_SSH_PUBBLOB_LEN];
	const size_t tail = 1 + 4 + CA_SSH_PUBBLOB_LEN;
	struct krlr *k = NULL;
	int r = JIT_ERR_INTERNAL;

	if (slot != CA_SLOT_SSH_USER)
		return JIT_ERR_POLICY;
	if (len < sizeof(krl_magic) + tail)
		return JIT_ERR_INCOMPLETE;
	ca_ssh_pubkey_blob(ca, CA_SLOT_SSH_USER, cablob);
	if (body[len - tail] != 4 /* KRL_SECTION_SIGNATURE */ ||
	    get_u32(body + len - tail + 1) != CA_SSH_PUBBLOB_LEN ||
	    memcmp(body + len - CA_SSH_PUBBLOB_LEN, cablob,
	    CA_SSH_PUBBLOB_LEN) != 0)
		return JIT_ERR_POLICY;
	/*
	 * What precedes the signature section is itself an unsigned KRL
	 * (krl_read.h); it must parse and carry no other signature.
	 */
	if ((r = krlr_parse(body, len - tail, NULL, 0, &k)) != JIT_OK)
		goto out;
	r = krlr_is_signed(k) ? JIT_ERR_POLICY : JIT_OK;
 out:
	krlr_free(k);
	return r;
}

/* Writes a DER length; returns its size. */
static size_t
der_len(uint8_t *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (uint8_t)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x10000) {
		p[0] = 0x82;
		p[1] = (uint8_t)(len >> 8);
		p[2] = (uint8_t)len;
		return 3;
	}
	p[0] = 0x83;
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

static int
asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return JIT_ERR_INVALID_FORMAT;
	*out = (int64_t)timegm(&tm);
	return JIT_OK;
}

/*
 * A DER TBSCertificate.  OpenSSL 3.0 cannot parse one on its own, so it is
 * wrapped into a Certificate with the ecdsa-with-SHA256 algorithm and an
 * empty signature and read with d2i_X509; the bytes signed are the bytes
 * checked.
 */
static int
check_x509(struct ca *ca, const struct ca_signer_limits *lim,
    const uint8_t *body, size_t len, int64_t now)
{
	static const uint8_t trailer[] = {
		0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
		0x03, 0x02,			/* ecdsa-with-SHA256 */
		0x03, 0x01, 0x00,		/* BIT STRING, empty */
	};
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t n, inner = len + sizeof(trailer);
	int64_t nb, na;
	uint32_t fl;
	X509 *x = NULL;
	int r = JIT_ERR_INVALID_FORMAT;

	if (len < 2 || body[0] != 0x30)
		return JIT_ERR_INVALID_FORMAT;
	if ((der = malloc(inner + 8)) == NULL)
		return JIT_ERR_ALLOC;
	der[0] = 0x30;
	n = 1 + der_len(der + 1, inner);
	memcpy(der + n, body, len);
	memcpy(der + n + len, trailer, sizeof(trailer));
	n += inner;
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)n)) == NULL || p != der + n)
		goto out;
	r = JIT_ERR_POLICY;
	if (X509_get_version(x) != X509_VERSION_3)
		goto out;
	if ((alg = X509_get0_tbs_sigalg(x)) == NULL)
		goto out;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (OBJ_obj2nid(obj) != NID_ecdsa_with_SHA256)
		goto out;
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca_x509_ca_cert(ca))) != 0)
		goto out;
	fl = X509_get_extension_flags(x);
	if ((fl & EXFLAG_INVALID) || !(fl & EXFLAG_BCONS) || (fl & EXFLAG_CA))
		goto out;
	if (!(fl & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT))
		goto out;
	if ((fl & EXFLAG_KUSAGE) &&
	    (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		goto out;
	if ((r = asn1_time(X509_get0_notBefore(x), &nb)) != JIT_OK ||
	    (r = asn1_time(X509_get0_notAfter(x), &na)) != JIT_OK)
		goto out;
	r = check_validity(lim, nb, na, now);
 out:
	X509_free(x);
	free(der);
	return r;
}

int
ca_signer_check(struct ca *ca, const struct ca_signer_limits *lim,
    enum ca_slot slot, const uint8_t *body, size_t len, int64_t now)
{
	struct ca_signer_limits l = { HARD_VALIDITY };

	if (lim != NULL && lim->max_validity > 0 &&
	    lim->max_validity < HARD_VALIDITY)
		l = *lim;
	if (body == NULL || len == 0)
		return JIT_ERR_INCOMPLETE;
	if (len > CA_SIGNER_MSG_MAX)
		return JIT_ERR_LIMIT;
	switch (slot) {
	case CA_SLOT_SSH_USER:
	case CA_SLOT_SSH_HOST:
		if (len >= sizeof(krl_magic) &&
		    memcmp(body, krl_magic, sizeof(krl_magic)) == 0)
			return check_krl(ca, slot, body, len);
		return check_ssh_cert(ca, &l, slot, body, len, now);
	case CA_SLOT_X509:
		return check_x509(ca, &l, body, len, now);
	default:
		return JIT_ERR_INVALID_ARG;
	}
}

/* The child: one request, one answer, until the socket closes. */
static void __attribute__((noreturn))
serve(struct ca *ca, const struct ca_signer_limits *lim, int fd)
{
	const size_t cap = CA_SIGNER_HDR_LEN + CA_SIGNER_MSG_MAX + 1;
	uint8_t *req, ans[CA_SIGNER_HDR_LEN + CA_SIG_MAX];
	size_t siglen;
	ssize_t n;
	uint32_t blen;
	int r;

	if ((req = malloc(cap)) == NULL)
		_exit(1);
	for (;;) {
		/* MSG_TRUNC: n is the message's real length. */
		n = recv(fd, req, cap, MSG_TRUNC);
		if (n == 0)
			_exit(0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		siglen = 0;
		if ((size_t)n < CA_SIGNER_HDR_LEN)
			r = JIT_ERR_INCOMPLETE;
		else if ((size_t)n > cap - 1)
			r = JIT_ERR_LIMIT;
		else if ((blen = get_u32(req + 1)) !=
		    (size_t)n - CA_SIGNER_HDR_LEN)
			r = blen > (size_t)n - CA_SIGNER_HDR_LEN ?
			    JIT_ERR_INCOMPLETE : JIT_ERR_TRAILING_DATA;
		else if (req[0] >= CA_SLOT_COUNT)
			r = JIT_ERR_INVALID_ARG;
		else if ((r = ca_signer_check(ca, lim, (enum ca_slot)req[0],
		    req + CA_SIGNER_HDR_LEN, blen, (int64_t)ca_now())) ==
		    JIT_OK)
			r = ca_sign(ca, (enum ca_slot)req[0],
			    req + CA_SIGNER_HDR_LEN, blen,
			    ans + CA_SIGNER_HDR_LEN, &siglen);
		if (r != JIT_OK)
			siglen = 0;
		ans[0] = r == JIT_OK ? 0 : r < 0 && r > -256 ? (uint8_t)-r :
		    (uint8_t)-JIT_ERR_INTERNAL;
		put_u32(ans + 1, (uint32_t)siglen);
		while (send(fd, ans, CA_SIGNER_HDR_LEN + siglen,
		    MSG_NOSIGNAL) < 0) {
			if (errno != EINTR)
				_exit(1);
		}
	}
}

static void __attribute__((noreturn))
child_main(struct ca *ca, const struct ca_signer_limits *lim, int fd,
    pid_t parent)
{
	int nul;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	/* Keep stderr and the socket (as fd 3); stdin, stdout: /dev/null. */
	if ((nul = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(nul, 1) == -1 ||
	    (fd != 3 && dup2(fd, 3) == -1))
		_exit(1);
	if (close_range(4, ~0U, 0) == -1)
		_exit(1);
	serve(ca, lim, 3);
}

static int
remote_sign(void *ctx, enum ca_slot slot, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	struct remote *rem = ctx;
	uint8_t hdr[CA_SIGNER_HDR_LEN], ans[CA_SIGNER_HDR_LEN + CA_SIG_MAX + 1];
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;
	uint32_t alen;

	*siglen = 0;
	if (len > CA_SIGNER_MSG_MAX)
		return JIT_ERR_LIMIT;
	if (len == 0 || msg == NULL)
		return JIT_ERR_INVALID_ARG;
	hdr[0] = (uint8_t)slot;
	put_u32(hdr + 1, (uint32_t)len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	pthread_mutex_lock(&rem->mu);
	if (rem->dead)
		goto dead;
	while ((n = sendmsg(rem->fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)(sizeof(hdr) + len))
		goto dead;
	while ((n = recv(rem->fd, ans, sizeof(ans), MSG_TRUNC)) < 0 &&
	    errno == EINTR)
		;
	if (n < CA_SIGNER_HDR_LEN || (size_t)n > sizeof(ans) - 1)
		goto dead;
	pthread_mutex_unlock(&rem->mu);
	alen = get_u32(ans + 1);
	if (alen != (size_t)n - CA_SIGNER_HDR_LEN)
		return JIT_ERR_CRYPTO;
	if (ans[0] != 0)
		return ans[0] < 128 ? -(int)ans[0] : JIT_ERR_CRYPTO;
	if (alen == 0 || alen > CA_SIG_MAX)
		return JIT_ERR_CRYPTO;
	memcpy(sig, ans + CA_SIGNER_HDR_LEN, alen);
	*siglen = alen;
	return JIT_OK;
 dead:
	/* No answer, a short one or a timeout: the stream cannot be trusted. */
	rem->dead = 1;
	pthread_mutex_unlock(&rem->mu);
	return JIT_ERR_CRYPTO;
}

static void
remote_free(void *ctx)
{
	struct remote *rem = ctx;

	if (rem == NULL)
		return;
	if (rem->fd != -1)
		close(rem->fd);	/* the child sees EOF and exits */
	if (!rem->reaped)
		while (waitpid(rem->pid, NULL, 0) == -1 && errno == EINTR)
			;
	pthread_mutex_destroy(&rem->mu);
	free(rem);
}

static const struct ca_signer_ops remote_ops = { remote_sign, remote_free };

int
ca_signer_fork(struct ca *ca, const struct ca_signer_limits *lim, pid_t *pid)
{
	struct ca_signer_limits l = { HARD_VALIDITY };
	struct timeval tv = { ANSWER_TIMEOUT, 0 };
	struct remote *rem;
	pid_t child, parent = getpid();
	int sv[2];

	if (pid != NULL)
		*pid = 0;
	if (ca == NULL || !ca_signer_is_local(ca))
		return JIT_ERR_INVALID_ARG;
	if (lim != NULL) {
		if (lim->max_validity < 0 || lim->max_validity > HARD_VALIDITY)
			return JIT_ERR_INVALID_ARG;
		if (lim->max_validity > 0)
			l = *lim;
	}
	if ((rem = calloc(1, sizeof(*rem))) == NULL)
		return JIT_ERR_ALLOC;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		free(rem);
		return JIT_ERR_SYSTEM;
	}
	if ((child = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		free(rem);
		return JIT_ERR_SYSTEM;
	}
	if (child == 0) {
		close(sv[0]);
		child_main(ca, &l, sv[1], parent);
	}
	close(sv[1]);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_init(&rem->mu, NULL);
	rem->fd = sv[0];
	rem->pid = child;
	/* Frees the in-process signer: sodium_free and EVP_PKEY_free wipe. */
	ca_set_signer(ca, &remote_ops, rem);
	if (pid != NULL)
		*pid = child;
	return JIT_OK;
}

int
ca_signer_alive(struct ca *ca)
{
	struct remote *rem;
	int alive;

	if ((rem = ca_signer_ctx(ca, &remote_ops)) == NULL)
		return 0;
	pthread_mutex_lock(&rem->mu);
	if (!rem->reaped && waitpid(rem->pid, NULL, WNOHANG) == rem->pid) {
		rem->reaped = 1;
		rem->dead = 1;
	}
	alive = !rem->dead;
	pthread_mutex_unlock(&rem->mu);
	return alive;
}

int
ca_signer_raw(struct ca *ca, const uint8_t *msg, size_t len, uint8_t *ans,
    size_t anscap, size_t *anslen)
{
	struct remote *rem;
	ssize_t n;
	int r = JIT_ERR_CRYPTO;

	*anslen = 0;
	if ((rem = ca_signer_ctx(ca, &remote_ops)) == NULL)
		return JIT_ERR_INVALID_ARG;
	pthread_mutex_lock(&rem->mu);
	if (rem->dead)
		goto out;
	while ((n = send(rem->fd, msg, len, MSG_NOSIGNAL)) < 0 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)len) {
		r = JIT_ERR_SYSTEM;
		goto out;
	}
	while ((n = recv(rem->fd, ans, anscap, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		rem->dead = 1;
		goto out;
	}
	*anslen = (size_t)n;
	r = JIT_OK;
 out:
	pthread_mutex_unlock(&rem->mu);
	return r;
}
