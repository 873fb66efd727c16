/*
 * ID token parsing and claim checks (see oidc.h).  The order is fixed:
 * split and decode with caps, parse the header strictly, verify the
 * signature (oidc_jwk.c), and only then parse the claims.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/admin.h"
#include "broker/oidc.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/safetext.h"

#define AUD_MAX		32	/* entries of an "aud" array */
#define AMR_MAX		32	/* entries of an "amr" array */
#define GROUPS_IN_MAX	1024	/* entries of a groups claim looked at */

struct oidc_jwt {
	char		*signing_input;	/* "header.payload" */
	size_t		 signing_len;
	uint8_t		*payload;
	size_t		 payload_len;
	uint8_t		*sig;
	size_t		 sig_len;
	unsigned int	 alg;
	char		 kid[OIDC_KID_MAX + 1];
	int		 has_kid;
};

void
oidc_jwt_free(struct oidc_jwt *t)
{
	if (t == NULL)
		return;
	free(t->signing_input);
	free(t->payload);
	free(t->sig);
	free(t);
}

const char *
oidc_jwt_kid(const struct oidc_jwt *t)
{
	return t->has_kid ? t->kid : NULL;
}

const char *
oidc_jwt_signed_part(const struct oidc_jwt *t, size_t *len)
{
	*len = t->signing_len;
	return t->signing_input;
}

/* Decodes one base64url part of len characters, at most max bytes. */
static int
part(const char *s, size_t len, size_t max, uint8_t **out, size_t *outlen)
{
	if (len == 0 || len > (max * 4 + 2) / 3)
		return JIT_ERR_LIMIT;
	return b64_decode(s, len, B64_URL, max, out, outlen);
}

static int
check_header(struct oidc_jwt *t, const uint8_t *h, size_t hl,
    const char **why)
{
	static const char *const fetched[] = { "jku", "x5u", "jwk", "x5c",
	    NULL };
	static const char *const allowed[] = { "alg", "kid", "typ", "x5t",
	    "x5t#S256", NULL };
	json_error_t jerr;
	json_t *o = NULL, *v;
	const char *key;
	size_t i;
	int r = JIT_ERR_AUTH;

	if (safetext_json_depth((const char *)h, hl, JIT_JSON_DEPTH_MAX) >
	    JIT_JSON_DEPTH_MAX || (o = json_loadb((const char *)h, hl,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(o)) {
		*why = "header is not a JSON object";
		goto out;
	}
	if (json_object_get(o, "crit") != NULL) {
		*why = "crit header refused";
		goto out;
	}
	for (i = 0; fetched[i] != NULL; i++) {
		if (json_object_get(o, fetched[i]) != NULL) {
			*why = "jku/x5u/jwk/x5c header refused (keys come "
			    "only from the configured JWKS)";
			goto out;
		}
	}
	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			*why = "unknown header parameter";
			goto out;
		}
	}
	v = json_object_get(o, "alg");
	if (!json_is_string(v) ||
	    (t->alg = oidc_alg_bit(json_string_value(v))) == 0) {
		*why = "alg not supported (only RS256, ES256, EdDSA)";
		goto out;
	}
	if ((v = json_object_get(o, "typ")) != NULL &&
	    (!json_is_string(v) || strcasecmp(json_string_value(v), "JWT") !=
	    0)) {
		*why = "typ is not JWT";
		goto out;
	}
	if ((v = json_object_get(o, "kid")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > OIDC_KID_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			*why = "kid is not a short string";
			goto out;
		}
		snprintf(t->kid, sizeof(t->kid), "%s", json_string_value(v));
		t->has_kid = 1;
	}
	r = JIT_OK;
 out:
	json_decref(o);
	return r;
}

int
oidc_jwt_parse(const char *token, size_t len, struct oidc_jwt **out,
    const char **why)
{
	struct oidc_jwt *t = NULL;
	const char *d1, *d2;
	uint8_t *h = NULL;
	size_t hl = 0;
	int r = JIT_ERR_AUTH;

	*out = NULL;
	*why = "malformed token";
	if (len > OIDC_TOKEN_MAX) {
		*why = "token too large";
		return JIT_ERR_AUTH;
	}
	if (memchr(token, '\0', len) != NULL ||
	    (d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) !=
	    NULL) {
		*why = "not a compact JWS (three parts)";
		return JIT_ERR_AUTH;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return JIT_ERR_ALLOC;
	if (part(token, (size_t)(d1 - token), OIDC_HEADER_MAX, &h, &hl) !=
	    JIT_OK) {
		*why = "header is not base64url or too large";
		goto out;
	}
	if (part(d1 + 1, (size_t)(d2 - d1 - 1), OIDC_PAYLOAD_MAX, &t->payload,
	    &t->payload_len) != JIT_OK) {
		*why = "payload is not base64url or too large";
		goto out;
	}
	if (part(d2 + 1, len - (size_t)(d2 + 1 - token), OIDC_SIG_MAX,
	    &t->sig, &t->sig_len) != JIT_OK) {
		*why = "signature is missing, not base64url or too large";
		goto out;
	}
	if ((r = check_header(t, h, hl, why)) != JIT_OK)
		goto out;
	t->signing_len = (size_t)(d2 - token);
	if ((t->signing_input = strndup(token, t->signing_len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	*out = t;
	t = NULL;
	r = JIT_OK;
 out:
	free(h);
	oidc_jwt_free(t);
	return r;
}

/* A NumericDate claim: 1 and *out if present and sane, 0 if absent. */
static int
get_time(json_t *o, const char *key, int64_t *out, int *bad)
{
	json_t *v = json_object_get(o, key);
	double d;

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 100000000000LL) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_real(v) && isfinite(d = json_real_value(v)) && d >= 0 &&
	    d < 1e11) {
		*out = (int64_t)floor(d);
		return 1;
	}
	*bad = 1;
	return 0;
}

static int
in_list(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static int
check_audience(json_t *c, const struct oidc_provider *p, const char **why)
{
	json_t *aud = json_object_get(c, "aud"), *azp, *e;
	size_t i;
	int found = 0;

	if (json_is_string(aud))
		found = strcmp(json_string_value(aud), p->audience) == 0;
	else if (json_is_array(aud) && json_array_size(aud) > 0 &&
	    json_array_size(aud) <= AUD_MAX) {
		json_array_foreach(aud, i, e) {
			if (!json_is_string(e)) {
				*why = "aud is not a string or array of "
				    "strings";
				return JIT_ERR_AUTH;
			}
			if (strcmp(json_string_value(e), p->audience) == 0)
				found = 1;
		}
	} else {
		*why = "aud missing or malformed";
		return JIT_ERR_AUTH;
	}
	if (!found) {
		*why = "wrong audience";
		return JIT_ERR_AUTH;
	}
	azp = json_object_get(c, "azp");
	if (json_is_array(aud) && json_array_size(aud) > 1 && azp == NULL) {
		*why = "several audiences and no azp";
		return JIT_ERR_AUTH;
	}
	if (azp != NULL && (!json_is_string(azp) ||
	    strcmp(json_string_value(azp), p->audience) != 0)) {
		*why = "azp is not our client id";
		return JIT_ERR_AUTH;
	}
	return JIT_OK;
}

static int
check_times(json_t *c, int64_t now, struct oidc_identity *id,
    const char **why)
{
	int64_t exp, nbf, iat, at;
	int bad = 0, has_exp, has_nbf, has_iat, has_at;

	has_exp = get_time(c, "exp", &exp, &bad);
	has_nbf = get_time(c, "nbf", &nbf, &bad);
	has_iat = get_time(c, "iat", &iat, &bad);
	has_at = get_time(c, "auth_time", &at, &bad);
	if (bad || !has_exp || !has_iat) {
		*why = "exp or iat missing, or a time claim malformed";
		return JIT_ERR_AUTH;
	}
	if (now >= exp + OIDC_LEEWAY) {
		*why = "expired";
		return JIT_ERR_AUTH;
	}
	if (has_nbf && nbf > now + OIDC_LEEWAY) {
		*why = "not yet valid (nbf)";
		return JIT_ERR_AUTH;
	}
	if (iat > now + OIDC_LEEWAY) {
		*why = "issued in the future (iat)";
		return JIT_ERR_AUTH;
	}
	if (!has_at)
		at = iat;
	if (at > now + OIDC_LEEWAY) {
		*why = "auth_time in the future";
		return JIT_ERR_AUTH;
	}
	id->exp = exp;
	id->auth_time = at;
	return JIT_OK;
}

/* An amr value we copy into the session's methods. */
static int
method_token(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 16)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static void
csv_add(char *csv, size_t size, const char *s)
{
	size_t used = strlen(csv), n = strlen(s);

	if (used + (used > 0) + n + 1 > size)
		return;
	if (used > 0)
		csv[used++] = ',';
	memcpy(csv + used, s, n + 1);
}

static int
csv_has(const char *csv, const char *s)
{
	size_t n = strlen(s);
	const char *p;

	if (n == 0)
		return 0;
	for (p = csv; (p = strstr(p, s)) != NULL; p += n)
		if ((p == csv || p[-1] == ',') && (p[n] == '\0' ||
		    p[n] == ','))
			return 1;
	return 0;
}

/* The MFA rule, and the session's methods: "oidc,mfa" + other amr. */
static int
check_mfa(json_t *c, const struct oidc_provider *p, struct oidc_identity *id,
    const char **why)
{
	json_t *amr = json_object_get(c, "amr"), *acr, *e;
	const char *s;
	size_t i;
	int mfa = 0;

	if (amr != NULL && (!json_is_array(amr) ||
	    json_array_size(amr) > AMR_MAX)) {
		*why = "amr is not a short array";
		return JIT_ERR_AUTH;
	}
	json_array_foreach(amr, i, e) {
		if (!json_is_string(e)) {
			*why = "amr holds a non-string";
			return JIT_ERR_AUTH;
		}
		if (in_list(p->amr_values, p->namr, json_string_value(e)))
			mfa = 1;
	}
	acr = json_object_get(c, "acr");
	if (acr != NULL && !json_is_string(acr)) {
		*why = "acr is not a string";
		return JIT_ERR_AUTH;
	}
	if (acr != NULL && in_list(p->acr_values, p->nacr,
	    json_string_value(acr)))
		mfa = 1;
	if (!mfa) {
		*why = "no MFA asserted (amr/acr)";
		return JIT_ERR_AUTH;
	}
	snprintf(id->methods, sizeof(id->methods), "oidc,mfa");
	json_array_foreach(amr, i, e) {
		s = json_string_value(e);
		if (method_token(s) && !csv_has(id->methods, s))
			csv_add(id->methods, sizeof(id->methods), s);
	}
	return JIT_OK;
}

static int
map_user(json_t *c, const struct oidc_provider *p, struct oidc_identity *id,
    const char **why)
{
	json_t *v = json_object_get(c, p->username_claim);
	const char *s, *at;
	size_t n;

	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v)) {
		*why = "username claim missing";
		return JIT_ERR_AUTH;
	}
	s = json_string_value(v);
	n = strlen(s);
	if (p->username_domain != NULL) {
		if ((at = strrchr(s, '@')) == NULL ||
		    strcasecmp(at + 1, p->username_domain) != 0) {
			*why = "username claim not in the configured domain";
			return JIT_ERR_AUTH;
		}
		n = (size_t)(at - s);
	}
	if (n == 0 || n > STORE_NAME_MAX) {
		*why = "username claim is not a valid jitd user name";
		return JIT_ERR_AUTH;
	}
	memcpy(id->user, s, n);
	id->user[n] = '\0';
	if (!admin_valid_name(id->user)) {
		*why = "username claim is not a valid jitd user name";
		return JIT_ERR_AUTH;
	}
	return JIT_OK;
}

static void
add_group(const struct oidc_provider *p, json_t *e, struct oidc_identity *id,
    size_t *count)
{
	const char *g;
	json_t *m;

	if (!json_is_string(e))
		return;
	g = json_string_value(e);
	if (p->group_map != NULL) {
		if (!json_is_string(m = json_object_get(p->group_map, g)))
			return;
		g = json_string_value(m);
	}
	if (*count < STORE_GROUPS_MAX && admin_valid_name(g) &&
	    !csv_has(id->groups, g)) {
		csv_add(id->groups, sizeof(id->groups), g);
		(*count)++;
	}
}

/* Groups from the claim, mapped, invalid names dropped, no duplicates. */
static void
map_groups(json_t *c, const struct oidc_provider *p, struct oidc_identity *id)
{
	json_t *v, *e;
	size_t i, count = 0;

	id->groups[0] = '\0';
	if (p->groups_claim == NULL)
		return;
	id->groups_claimed = 1;
	v = json_object_get(c, p->groups_claim);
	if (json_is_string(v))
		add_group(p, v, id, &count);
	else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i >= GROUPS_IN_MAX)
				break;
			add_group(p, e, id, &count);
		}
	}
}

int
oidc_jwt_verify(const struct oidc_jwt *t, const struct oidc_provider *p,
    const struct oidc_jwks *keys, int64_t now, struct oidc_identity *out,
    const char **why)
{
	struct oidc_identity id;
	json_error_t jerr;
	json_t *c = NULL, *iss;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&id, 0, sizeof(id));
	if ((p->algs & t->alg) == 0) {
		*why = "alg not allowed for this provider";
		return JIT_ERR_PERMISSION;
	}
	if ((r = oidc_jwks_verify(keys, oidc_jwt_kid(t), t->alg,
	    (const uint8_t *)t->signing_input, t->signing_len, t->sig,
	    t->sig_len, why)) != JIT_OK)
		return r;
	r = JIT_ERR_AUTH;
	if (safetext_json_depth((const char *)t->payload, t->payload_len,
	    JIT_JSON_DEPTH_MAX) > JIT_JSON_DEPTH_MAX ||
	    (c = json_loadb((const char *)t->payload, t->payload_len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(c)) {
		*why = "claims are not a JSON object";
		goto out;
	}
	iss = json_object_get(c, "iss");
	if (!json_is_string(iss) || strcmp(json_string_value(iss),
	    p->issuer) != 0) {
		*why = "wrong issuer";
		goto out;
	}
	if (check_audience(c, p, why) != JIT_OK ||
	    check_times(c, now, &id, why) != JIT_OK ||
	    check_mfa(c, p, &id, why) != JIT_OK ||
	    map_user(c, p, &id, why) != JIT_OK)
		goto out;
	map_groups(c, p, &id);
	*out = id;
	*why = "ok";
	r = JIT_OK;
 out:
	json_decref(c);
	return r;
}
