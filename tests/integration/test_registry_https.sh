#!/usr/bin/env bash
# The registry over https://, through libgit2 and git's own smart-HTTP server
# (git http-backend behind a small TLS server in a namespace, its
# certificate signed by a test authority): without CAFile the certificate is
# refused and nothing is applied; with CAFile naming the authority the
# members arrive.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg git ss openssl python3
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built"

netns_pair a b
new_node MA
new_node MB
IB=$(ifname hb) || exit 1
use_underlay 4 51820

step "a registry behind https in A"
git init -q -b main "$NS_WORK/src" && mkdir "$NS_WORK/src/members" || fail "git init"
printf '[Member]\nPublicKey = %s\nEndpoint = %s\n' "$MA_PUB" "$EP_A" >"$NS_WORK/src/members/a.conf"
printf '[Member]\nPublicKey = %s\n' "$MB_PUB" >"$NS_WORK/src/members/b.conf"
git -C "$NS_WORK/src" add -A && git -C "$NS_WORK/src" -c user.email=t@e -c user.name=t commit -qm m &&
	git clone -q --bare "$NS_WORK/src" "$NS_WORK/www/registry.git" || fail "registry"
T=$NS_WORK/tls
mkdir -p "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout "$T/ca.key" \
	-out "$T/ca.pem" 2>/dev/null || fail "CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=$U4_A" -keyout "$T/srv.key" -out "$T/srv.csr" \
	2>/dev/null || fail "server key"
printf 'subjectAltName=IP:%s,DNS:%s\n' "$U4_A" "$U4_A" >"$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/ext" -out "$T/srv.pem" 2>/dev/null || fail "server certificate"
cat >"$NS_WORK/https.py" <<'EOF'
# git http-backend as CGI behind TLS, every answer with a Content-Length.
import http.server, os, ssl, subprocess, sys

class Git(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def run(self):
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        env = dict(os.environ, REQUEST_METHOD=self.command, PATH_INFO=path,
                   QUERY_STRING=query, CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(body)), REMOTE_ADDR=self.client_address[0])
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = run

srv = http.server.HTTPServer((sys.argv[2], 8443), Git)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
ns_spawn https "$NS_A" env GIT_PROJECT_ROOT="$NS_WORK/www" GIT_HTTP_EXPORT_ALL=1 \
	python3 "$NS_WORK/https.py" "$NS_WORK/www" "$U4_A" "$T/srv.pem" "$T/srv.key"
wait_for "ip netns exec $NS_A ss -Hltn 'sport = :8443' | grep -q LISTEN" 10 || fail "https server: $(cat "${PROC_LOG[https]}")"
URL="https://$U4_A:8443/registry.git"
pass "$URL"

step "an unknown authority: refused, nothing applied"
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
printf '\n[Registry]\nURL = %s\nCacheDir = %s\n' "$URL" "$NS_WORK/cache" >>"$NS_WORK/b.conf"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
wait_for "grep -q 'registry: sync failed' ${PROC_LOG[alameshd-b]}" 20 || fail "no failed sync logged"
grep 'registry: sync failed' "${PROC_LOG[alameshd-b]}" | grep -qi 'certificate\|x509\|ssl\|tls' ||
	fail "the failure does not name the certificate: $(grep 'sync failed' "${PROC_LOG[alameshd-b]}")"
[ -z "$(wg show "$IB" peers)" ] || fail "members applied over an unverified connection"
pass "$(grep -m1 'registry: sync failed' "${PROC_LOG[alameshd-b]}")"
proc_stop alameshd-b TERM 10 || fail "B did not stop"

step "CAFile names the authority: the members arrive over https"
printf 'CAFile = %s\n' "$T/ca.pem" >>"$NS_WORK/b.conf"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
wait_for "wg show $IB peers | grep -qx '$MA_PUB'" 20 ||
	fail "no members over https: $(grep registry "${PROC_LOG[alameshd-b]}" | tail -n 2)"
out=$("$ALAMESH" sync "$IB") || fail "sync over https: $out"
pass "over https: $out"
