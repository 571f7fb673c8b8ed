#!/usr/bin/env bash
# Installs the tools that evidock's tests and demo run into .tools/bin
# (git-ignored), reusing what is already there. Needs only Go and the Go
# module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSITYGW_VERSION=v1.8.0
bin="$PWD/.tools/bin"
mkdir -p "$bin"

if [ ! -x "$bin/versitygw" ] || [ "$(cat "$bin/.versitygw-version" 2>/dev/null)" != "$VERSITYGW_VERSION" ]; then
	echo "tools: building versitygw $VERSITYGW_VERSION into .tools/bin (about two minutes the first time)" >&2
	GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	echo "$VERSITYGW_VERSION" > "$bin/.versitygw-version"
fi
