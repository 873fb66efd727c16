/* The jit subcommands, one function each (clients/cmd_*.c). */
#ifndef JIT_CLIENTS_COMMANDS_H
#define JIT_CLIENTS_COMMANDS_H

#include "clients/cli.h"

int cmd_login(struct cli *c, int argc, char **argv);
int cmd_logout(struct cli *c, int argc, char **argv);
int cmd_whoami(struct cli *c, int argc, char **argv);
int cmd_roles(struct cli *c, int argc, char **argv);
int cmd_request(struct cli *c, int argc, char **argv);
int cmd_requests(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_cancel(struct cli *c, int argc, char **argv);
int cmd_approvals(struct cli *c, int argc, char **argv);
int cmd_approve(struct cli *c, int argc, char **argv);
int cmd_deny(struct cli *c, int argc, char **argv);
int cmd_revoke(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_cert(struct cli *c, int argc, char **argv);
int cmd_ssh(struct cli *c, int argc, char **argv);
int cmd_server_setup(struct cli *c, int argc, char **argv);
int cmd_krl_refresh(struct cli *c, int argc, char **argv);

/*
 * True when argv holds "--help" or "-h" before any "--": the command then
 * prints its usage to stdout and exits 0.
 */
int cli_wants_help(int argc, char **argv);

#endif
