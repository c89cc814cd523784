#!/bin/sh
# Baseline for `promobot-bench engine`'s no-op cycle: the cheapest possible "did anything move?" loop,
# one `git ls-remote` of the target branch per deploy repository, one after the other. It reads nothing,
# plans nothing and lists no merge requests: a floor for what a no-op cycle could cost with the git CLI.
#
#   bench-baseline-ls-remote.sh LIST
#
# LIST has one line per repository, the clone URL first (the Jenkins baseline's list serves).
# $BENCH_GIT_TOKEN is the token; it reaches git as an `http.extraHeader` through the environment.
set -eu
list=$1
: "${BENCH_GIT_TOKEN:?set BENCH_GIT_TOKEN}"
auth=$(printf 'oauth2:%s' "$BENCH_GIT_TOKEN" | base64 -w0)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader GIT_CONFIG_VALUE_0="Authorization: Basic $auth"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1
while read -r url rest; do
  git ls-remote --heads "$url" master > /dev/null
done < "$list"
