#!/bin/bash
# Usage: tests/packaging/test_package.sh SOURCE_DIR BUILD_DIR
# The install and the Debian package, end to end (ctest's `packaging`, plain
# build only: tests/CMakeLists.txt). Through the Makefile's own targets, in
# BUILD_DIR (a release build of its own, so build-release/ is left alone):
#   make deb      -> dpkg-deb --info (runtime libraries only, never a -dev),
#                    dpkg-deb --contents (exactly the files below), lintian;
#                    extracted with dpkg-deb -x, its binary serves a fresh
#                    SQLite database (customer create, /healthz, GET
#                    /api/orders/ with the key, SIGTERM exits 0) and its man
#                    page renders without a warning and lists every serve flag,
#                    STOCKROOM_* variable and command the binary knows;
#                    the unit passes systemd-analyze verify and has its hardening
#   make install  -> DESTDIR=... PREFIX=/usr and the default PREFIX (/usr/local):
#                    the files land where they should, ExecStart follows PREFIX
set -euo pipefail
SRC=$(readlink -f "${1:?usage: test_package.sh SOURCE_DIR BUILD_DIR}")
mkdir -p "${2:?usage: test_package.sh SOURCE_DIR BUILD_DIR}"
B=$(readlink -f "$2")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stockroom-package.XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "test_package: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
# The Makefile's targets, as a user runs them (not as part of an outer make).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" --no-print-directory RELEASE_DIR="$B" "$@"; }

VERSION=$(sed -n 's/^project(stockroom VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$VERSION" ] || fail "no version in CMakeLists.txt's project()"

# ------------------------------------------------------------------ make deb
step "make deb (release build in $B)"
rm -f "$B"/stockroom_*.deb
mk deb >"$WORK/make-deb.log" 2>&1 || { tail -n 50 "$WORK/make-deb.log" >&2; fail "make deb"; }
DEBS=("$B"/stockroom_*.deb)
[ ${#DEBS[@]} = 1 ] && [ -f "${DEBS[0]}" ] || fail "make deb made ${DEBS[*]}"
DEB=${DEBS[0]}
echo "package: $DEB"

step "dpkg-deb --info"
dpkg-deb --info "$DEB"
field() { dpkg-deb --field "$DEB" "$1"; }
[ "$(field Package)" = stockroom ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION-1" ] || fail "Version: $(field Version), want $VERSION-1"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
[ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] || fail "no Maintainer or Description"
DEPENDS=$(field Depends)
if grep -qE -- '-dev\b' <<<"$DEPENDS"; then fail "Depends names a -dev package: $DEPENDS"; fi
for lib in libmicrohttpd12 libjson-c5 libsqlite3-0 libpq5 libsodium23 libcurl3-gnutls libxml2 \
           libgnutls30 libsystemd0; do
    grep -qE "(^|, )$lib( |,|$)" <<<"$DEPENDS" || fail "Depends lacks $lib: $DEPENDS"
done

step "dpkg-deb --contents"
dpkg-deb --contents "$DEB"
FILES=$(dpkg-deb --contents "$DEB" | awk '$1 !~ /^d/ { print $NF }' | sort)
WANT=$(printf '%s\n' ./lib/systemd/system/stockroom.service ./usr/bin/stockroom \
    ./usr/share/doc/stockroom/changelog.Debian.gz ./usr/share/doc/stockroom/copyright \
    ./usr/share/man/man1/stockroom.1.gz | sort)
[ "$FILES" = "$WANT" ] || fail "the package holds:
$FILES
instead of:
$WANT"

step "lintian"
# Fails on any error or warning but one: initial-upload-closes-no-bugs, which
# asks a first changelog entry to close the archive's "intent to package" bug;
# this package is not uploaded to Debian, so there is no such bug to close.
# (Info tags left: hardening-no-fortify-functions, the project is not built
# with _FORTIFY_SOURCE; binary-has-unneeded-section .comment, CPack strips
# without --remove-section; spelling-error-in-binary, in the embedded Swagger
# UI bundle; package-supports-alternative-init-but-no-init.d-script, systemd
# only.) "running with root privileges is not recommended" is lintian's own
# note when run as root, as CI does.
lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs "$DEB" ||
    fail "lintian found errors or warnings"
echo "lintian: no errors, no warnings"

step "dpkg-deb -x"
ROOT=$WORK/root
dpkg-deb -x "$DEB" "$ROOT"
BIN=$ROOT/usr/bin/stockroom
[ -x "$BIN" ] || fail "$BIN is not executable"
MAN=$ROOT/usr/share/man/man1/stockroom.1.gz
UNIT=$ROOT/lib/systemd/system/stockroom.service
grep -qx 'ExecStart=/usr/bin/stockroom serve' "$UNIT" || fail "the packaged unit's ExecStart: $(grep ExecStart= "$UNIT")"
cmp -s "$ROOT/usr/share/doc/stockroom/copyright" "$SRC/packaging/copyright" || fail "copyright differs from packaging/copyright"
zcat "$ROOT/usr/share/doc/stockroom/changelog.Debian.gz" | head -n 1 | grep -q "^stockroom ($VERSION-1)" ||
    fail "changelog.Debian.gz is not for $VERSION-1"

step "the packaged binary serves a fresh SQLite database"
DB=$WORK/data/stockroom.db
mkdir -p "$WORK/data"
KEY=$("$BIN" customer create packaged --db "$DB" | tail -n 1)
[ ${#KEY} -ge 20 ] || fail "customer create printed no key: $KEY"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -u STOCKROOM_DATABASE_URL "$BIN" serve --listen "127.0.0.1:$PORT" --db "$DB" 2>"$WORK/serve.log" &
SERVER_PID=$!
status=000
for _ in $(seq 200); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)
    [ "$status" = 200 ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "serve exited"; }
    sleep 0.1
done
[ "$status" = 200 ] || { cat "$WORK/serve.log" >&2; fail "/healthz answered $status"; }
echo "/healthz: 200"
status=$(curl -s -o "$WORK/orders.json" -w '%{http_code}' -H "API_KEY: $KEY" "http://127.0.0.1:$PORT/api/orders/")
[ "$status" = 200 ] || fail "GET /api/orders/ answered $status: $(cat "$WORK/orders.json")"
grep -q '"count": *0' "$WORK/orders.json" || fail "GET /api/orders/: $(cat "$WORK/orders.json")"
echo "GET /api/orders/ with the key: 200"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/orders/")
[ "$status" = 401 ] || fail "GET /api/orders/ without a key answered $status"
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=
[ "$rc" = 0 ] || { cat "$WORK/serve.log" >&2; fail "SIGTERM: exit status $rc"; }
echo "SIGTERM: exit status 0"

step "the man page"
# It renders, and neither man nor groff has a warning about it.
MANPAGER=cat MANWIDTH=80 man -l "$MAN" >"$WORK/man.txt" 2>"$WORK/man.err" || fail "man -l: $(cat "$WORK/man.err")"
[ ! -s "$WORK/man.err" ] || fail "man -l: $(cat "$WORK/man.err")"
for section in NAME SYNOPSIS DESCRIPTION "SERVE OPTIONS" COMMANDS ENVIRONMENT FILES SIGNALS \
               "EXIT STATUS" "SEE ALSO"; do
    grep -qx "$section" "$WORK/man.txt" || fail "the rendered man page has no section $section"
done
man --warnings -l "$MAN" 2>&1 >/dev/null | tee "$WORK/warnings"
[ ! -s "$WORK/warnings" ] || fail "man --warnings warns"
zcat "$MAN" | groff -man -ww -z 2>&1 | tee "$WORK/warnings"
[ ! -s "$WORK/warnings" ] || fail "groff -man -ww warns"
zcat "$MAN" | groff -man -ww -z -Tascii 2>&1 | tee "$WORK/warnings"
[ ! -s "$WORK/warnings" ] || fail "groff -man -ww -Tascii warns"
head -n 12 "$WORK/man.txt"
# It is the binary's own account: `stockroom manpage` is what was packaged,
# and it names every flag and variable `serve --help` shows and every command
# of the usage (the man page's \- is a plain - here).
"$BIN" manpage | cmp -s - <(zcat "$MAN") || fail "the packaged man page is not \`stockroom manpage\`"
"$BIN" manpage | sed 's/\\-/-/g' >"$WORK/page.roff"
"$BIN" serve --help >"$WORK/serve-help.txt"
n=0
for word in $(grep -oE -- '--[a-z][a-z-]*|STOCKROOM_[A-Z_]+' "$WORK/serve-help.txt" | sort -u); do
    grep -qF -- "$word" "$WORK/page.roff" || fail "the man page lacks $word (from serve --help)"
    n=$((n + 1))
done
[ "$n" -ge 40 ] || fail "serve --help shows only $n flags and variables"
"$BIN" --help >"$WORK/usage.txt"
m=0
while read -r cmd; do
    grep -qF -- "$cmd" "$WORK/page.roff" || fail "the man page lacks the command '$cmd'"
    m=$((m + 1))
done < <(sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\?\) [A-Z[].*/\1/p' "$WORK/usage.txt")
[ "$m" -ge 10 ] || fail "found only $m commands in the usage"
if grep -qw manpage "$WORK/usage.txt"; then fail "the usage lists manpage"; fi
echo "the man page names all $n flags and variables of serve --help and all $m commands"

step "the systemd unit"
for line in Type=notify 'ExecStart=/usr/bin/stockroom serve' Restart=on-failure KillSignal=SIGTERM \
            TimeoutStopSec=30 DynamicUser=yes StateDirectory=stockroom ProtectSystem=strict \
            ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes PrivateDevices=yes \
            ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
            ProtectControlGroups=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
            RestrictNamespaces=yes LockPersonality=yes MemoryDenyWriteExecute=yes RestrictRealtime=yes \
            SystemCallArchitectures=native CapabilityBoundingSet= \
            Environment=STOCKROOM_DB=/var/lib/stockroom/stockroom.db \
            EnvironmentFile=-/etc/default/stockroom 'WantedBy=multi-user.target'; do
    grep -qxF -- "$line" "$UNIT" || fail "the unit lacks the line $line"
done
nofile=$(sed -n 's/^LimitNOFILE=//p' "$UNIT")
[ "${nofile:-0}" -ge 16500 ] || fail "LimitNOFILE=$nofile leaves no room for 16384 connections"
# verify wants ExecStart's binary and the Documentation= page to exist: a copy
# of the unit runs the extracted binary, MANPATH finds the extracted page.
mkdir -p "$WORK/unit"
sed "s|^ExecStart=/usr/bin/stockroom |ExecStart=$BIN |" "$UNIT" >"$WORK/unit/stockroom.service"
rc=0
MANPATH=$ROOT/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$WORK/unit/stockroom.service" \
    >"$WORK/verify.log" 2>&1 || rc=$?
cat "$WORK/verify.log"
[ "$rc" = 0 ] || fail "systemd-analyze verify: exit status $rc"
if grep -q stockroom "$WORK/verify.log"; then fail "systemd-analyze verify warns about the unit"; fi
echo "systemd-analyze verify: no warnings about the unit"

# ------------------------------------------------------------- make install
check_install() {   # DESTDIR PREFIX UNITDIR
    local dest=$1 prefix=$2 unitdir=$3 f
    for f in "$prefix/bin/stockroom" "$prefix/share/man/man1/stockroom.1.gz" \
             "$prefix/share/doc/stockroom/copyright" "$prefix/share/doc/stockroom/changelog.Debian.gz" \
             "$unitdir/stockroom.service"; do
        [ -f "$dest$f" ] || fail "make install PREFIX=$prefix: no $f"
    done
    [ -x "$dest$prefix/bin/stockroom" ] || fail "$prefix/bin/stockroom is not executable"
    grep -qx "ExecStart=$prefix/bin/stockroom serve" "$dest$unitdir/stockroom.service" ||
        fail "PREFIX=$prefix: the unit's $(grep ExecStart= "$dest$unitdir/stockroom.service")"
    "$dest$prefix/bin/stockroom" manpage | cmp -s - <(zcat "$dest$prefix/share/man/man1/stockroom.1.gz") ||
        fail "PREFIX=$prefix: the installed man page is not the binary's"
    echo "make install PREFIX=$prefix: $(cd "$dest" && find . -type f | sort | tr '\n' ' ')"
}

step "make install DESTDIR=... PREFIX=/usr"
mk install DESTDIR="$WORK/inst-usr" PREFIX=/usr >"$WORK/make-install.log" 2>&1 ||
    { tail -n 30 "$WORK/make-install.log" >&2; fail "make install PREFIX=/usr"; }
check_install "$WORK/inst-usr" /usr /lib/systemd/system
[ "$(cd "$WORK/inst-usr" && find . -type f | sort)" = "$WANT" ] ||
    fail "make install PREFIX=/usr does not install what the package holds"

step "make install DESTDIR=... (default PREFIX)"
mk install DESTDIR="$WORK/inst-local" >"$WORK/make-install.log" 2>&1 ||
    { tail -n 30 "$WORK/make-install.log" >&2; fail "make install"; }
check_install "$WORK/inst-local" /usr/local /usr/local/lib/systemd/system

echo "test_package: PASSED"
