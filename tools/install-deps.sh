#!/bin/sh
# install-deps.sh - install the Debian packages moat needs to build, run and
# test, and only those that are missing. Runs `apt-get update` once, only when
# something is missing. Installing must never start a system MTA or DNS server:
# postfix is preseeded to "No configuration" and service starts are refused
# through policy-rc.d while apt runs.
set -eu
PKGS="gcc make libc6-dev libssl-dev libseccomp-dev libcap-dev libdb-dev libpcre2-dev
libsasl2-dev libcmocka-dev clang libclang-rt-14-dev python3 python3-pytest
python3-aiosmtpd swaks postfix pflogsumm dnsmasq-base sasl2-bin openssl iproute2 procps
postgrey postfix-policyd-spf-python postfix-pcre"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_policy=1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
rc=0
apt-get update -q && apt-get install -y -q --no-install-recommends $missing || rc=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
exit $rc
