#!/bin/sh
# Baseline for `promobot-bench engine`: what the seed's Jenkins "Update deploy repository" stage does,
# applied to promoting dev -> test, once per deploy repository:
#   fresh `git clone --depth=1 --single-branch --branch master`, read the dev tag, edit the test tag (sed),
#   commit, push a branch, and one `curl` POST to open the merge request.
# When test already runs dev's tag the repository still had to be cloned to find out; nothing else happens.
#
#   bench-baseline-jenkins.sh LIST
#
# LIST has one line per repository: "<clone url> <url-encoded project path> <image> <work dir>".
# $BENCH_GIT_TOKEN is the token, $BENCH_API_URL the REST root (http://host:port/api/v4).
# The token reaches git as an `http.extraHeader` through GIT_CONFIG_COUNT/KEY/VALUE (the environment form of
# `git -c http.extraHeader=...`) and curl through `-H @-` on standard input: never argv, never a file.
set -eu
list=$1
: "${BENCH_GIT_TOKEN:?set BENCH_GIT_TOKEN}"
: "${BENCH_API_URL:?set BENCH_API_URL}"

auth=$(printf 'oauth2:%s' "$BENCH_GIT_TOKEN" | base64 -w0)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader GIT_CONFIG_VALUE_0="Authorization: Basic $auth"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=jenkins GIT_AUTHOR_EMAIL=jenkins@example.com GIT_COMMITTER_NAME=jenkins GIT_COMMITTER_EMAIL=jenkins@example.com

while read -r url project image dir; do
  rm -rf "$dir"
  git clone --quiet --depth=1 --single-branch --branch master "$url" "$dir"
  new=$(sed -n "s|^ *image: $image:\(.*\)\$|\1|p" "$dir/dev/app/deploy.yaml" | head -n 1)
  current=$(sed -n "s|^ *image: $image:\(.*\)\$|\1|p" "$dir/test/app/deploy.yaml" | head -n 1)
  if [ "$new" = "$current" ]; then
    continue
  fi
  sed -i "s|\(image: $image\):.*\$|\1:$new|" "$dir"/test/app/*.yaml
  git -C "$dir" commit --quiet -am "[jenkins] Promote test to $new"
  git -C "$dir" push --quiet origin "HEAD:refs/heads/jenkins/promote-test"
  printf 'PRIVATE-TOKEN: %s\n' "$BENCH_GIT_TOKEN" | curl --silent --show-error --fail --output /dev/null -H @- \
    --data-urlencode "source_branch=jenkins/promote-test" --data-urlencode "target_branch=master" \
    --data-urlencode "title=Promote test to $new" "$BENCH_API_URL/projects/$project/merge_requests"
done < "$list"
