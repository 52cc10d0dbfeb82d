#!/bin/bash
# Usage: scripts/npm-install.sh DIR
# Installs the npm packages of DIR (its committed package.json and
# package-lock.json) into DIR/node_modules, exactly as the lock file says
# (`npm ci`). Idempotent and fast: when node_modules was installed from the
# same package.json and package-lock.json (a checksum of both is kept in
# node_modules/.installed-from), it returns at once without running npm.
# node and npm come from scripts/deps.sh. node_modules is never committed.
set -euo pipefail

DIR=${1:?usage: npm-install.sh DIR}
cd "$DIR"
for f in package.json package-lock.json; do
    [ -f "$f" ] || { echo "npm-install: $DIR/$f missing" >&2; exit 1; }
done
for c in node npm; do
    command -v "$c" >/dev/null 2>&1 ||
        { echo "npm-install: '$c' not found; run scripts/deps.sh" >&2; exit 1; }
done

stamp=node_modules/.installed-from
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ -d node_modules ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

echo "npm-install: installing the packages of $DIR" >&2
# npm ci removes node_modules first, so a stale or partial tree goes away.
# --ignore-scripts: none of our packages needs an install script (Chromium
# comes from Debian, never from a download by playwright).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
