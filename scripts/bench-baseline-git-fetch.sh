#!/bin/sh
# Baseline for `promobot-bench refresh`: ordinary git CLI clones, refreshed with a shell loop of `git fetch`.
#
#   bench-baseline-git-fetch.sh clone LIST   # git clone each "<url> <dir>" line of LIST
#   bench-baseline-git-fetch.sh fetch LIST   # git fetch in each <dir>, one after the other
#
# The token comes from $BENCH_GIT_TOKEN and reaches git as an `http.extraHeader` through git's
# GIT_CONFIG_COUNT/KEY/VALUE environment (the environment form of `git -c http.extraHeader=...`), so it is
# never on a command line and never written to disk (URLs in LIST carry no credentials).
set -eu
mode=$1
list=$2
: "${BENCH_GIT_TOKEN:?set BENCH_GIT_TOKEN}"

# printf is a shell builtin: the token is not in any process's argv.
auth=$(printf 'oauth2:%s' "$BENCH_GIT_TOKEN" | base64 -w0)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader GIT_CONFIG_VALUE_0="Authorization: Basic $auth"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1

case "$mode" in
  clone)
    while read -r url dir; do
      git clone --quiet "$url" "$dir"
    done < "$list"
    ;;
  fetch)
    while read -r url dir; do
      git -C "$dir" fetch --quiet origin
    done < "$list"
    ;;
  *)
    echo "usage: $0 clone|fetch LIST" >&2
    exit 2
    ;;
esac
