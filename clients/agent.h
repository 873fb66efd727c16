/*
 * A minimal ssh-agent client (draft-miller-ssh-agent, OpenSSH
 * PROTOCOL.agent): enough to hand an Ed25519 key and its certificate to
 * the user's running agent with a lifetime, so the private key never
 * touches the disk.
 */
#ifndef JIT_CLIENTS_AGENT_H
#define JIT_CLIENTS_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "clients/sshkeyfile.h"

/*
 * Connects to the agent at $SSH_AUTH_SOCK.  Returns JIT_OK and a socket
 * in *fdp (close it with agent_close), JIT_ERR_NOT_FOUND when the
 * variable is unset or empty, JIT_ERR_SYSTEM when nothing answers there.
 */
int agent_connect(int *fdp) __attribute__((warn_unused_result));
void agent_close(int fd);

/*
 * Adds the key pair pk/sk with its certificate (the decoded blob of the
 * certificate line) under comment, constrained to lifetime seconds
 * (SSH2_AGENTC_ADD_ID_CONSTRAINED with SSH_AGENT_CONSTRAIN_LIFETIME).
 * Returns JIT_OK when the agent answers SSH_AGENT_SUCCESS,
 * JIT_ERR_PERMISSION when it answers failure, JIT_ERR_SYSTEM (errno) or
 * JIT_ERR_INVALID_FORMAT/JIT_ERR_LIMIT for a broken or oversized answer.
 * The message holding the secret key is wiped before returning.
 */
int agent_add_ed25519_cert(int fd, const uint8_t *cert, size_t certlen,
    const uint8_t pk[SKF_ED25519_PK], const uint8_t sk[SKF_ED25519_SK],
    const char *comment, uint32_t lifetime)
    __attribute__((warn_unused_result));

#endif
