#!/bin/sh
# make run: a demo instance under ./var, with one demo user, served on
# 127.0.0.1:8787 in the foreground (Ctrl-C stops it).
set -eu
cd "$(dirname "$0")/.."

if [ ! -f var/jitd.json ]; then
	bin/jitd init var
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	umask 077
	printf '%s\n' "$pw" > var/demo-password
	echo
	echo "== demo user 'demo' (groups eng, auditors)"
	echo "   password: $pw   (also in var/demo-password)"
	bin/jitd -c var/jitd.json user add demo --groups eng,auditors \
	    --password-file var/demo-password | tee var/demo-totp
	echo "   Add the otpauth:// URI above to an authenticator app, or"
	echo "   compute codes with: oathtool --totp -b \$(sed -n 's/^totp_secret: //p' var/demo-totp)"
	echo
	echo "== demo approver 'approver' (group approvers; same password)"
	bin/jitd -c var/jitd.json user add approver --groups approvers \
	    --password-file var/demo-password | tee var/approver-totp
	echo
	echo "   Try: jit login --url http://127.0.0.1:8787 --user demo, then"
	echo "        jit request demo-ssh --for 15m --reason 'try it' --wait"
	echo "   and, as approver in another terminal (JIT_HOME=/tmp/approver):"
	echo "        jit approvals; jit approve ID"
	echo
fi
echo "== log in with curl:"
echo "   curl -s -H 'Content-Type: application/json' -d '{\"user\":\"demo\",\"password\":\"...\",\"otp\":\"123456\"}' http://127.0.0.1:8787/v1/login"
echo
exec bin/jitd -c var/jitd.json serve
