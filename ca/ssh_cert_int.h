/*
 * Internals shared by ssh_cert.c and ssh_cert_parse.c; not part of the
 * ca/ interface.
 */
#ifndef JIT_CA_SSH_CERT_INT_H
#define JIT_CA_SSH_CERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ssh_cert.h"

/*
 * ca_ssh_cert_parse with the signature check made optional.  verify == 0
 * is only for the builder's post-sign check of a certificate this process
 * has just signed; the signature key must still equal ca_pub.
 */
int ca_ssh_cert_parse_int(const uint8_t *blob, size_t len,
    const uint8_t *ca_pub, int verify, struct ca_ssh_cert_info **out)
    __attribute__((warn_unused_result));

#endif
