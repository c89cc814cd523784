# syntax=docker/dockerfile:1
# promobot's container image: a static-stdlib binary on debian:bookworm-slim, run as a non-root user.
#
#   docker build --build-arg VERSION=0.2.0 -t promobot:0.2.0 .      (or: podman build / buildah bud, same flags)
#
# The build stage runs scripts/build-release and scripts/package, the same scripts CI runs on every
# pipeline (.ci/run), so this file only says where things go. The build context has no .git
# (.dockerignore), so the version comes from the VERSION build argument; without it the binary says
# 0.0.0-dev+unknown. docs/packaging.md has the rest, and deploy/gitlab/release.gitlab-ci.yml builds it
# with buildah on a tag (docs/packaging.md also shows kaniko).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY . .
ARG VERSION=""
RUN PROMOBOT_VERSION="${VERSION}" ./scripts/build-release /out && ./scripts/package /out

FROM ${RUNTIME_IMAGE}
# What the binary loads (ldd: libgit2 and libcurl, which bring their own dependencies) and the CA roots
# for https; nothing else: no shell is needed beyond the base image's /bin/sh, which GitLab CI jobs use.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgit2-1.5 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 promobot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /home/promobot --create-home --shell /usr/sbin/nologin promobot \
 && mkdir -p /cache && chown 65532:65532 /cache
COPY --from=build /out/promobot /usr/local/bin/promobot
COPY --from=build /out/licenses /usr/share/doc/promobot/licenses

# The default `cache` folder is $XDG_CACHE_HOME/promobot: on the volume, so clones survive restarts.
ENV XDG_CACHE_HOME=/cache
VOLUME ["/cache"]
# 65532 is the uid the Kubernetes examples in deploy/ run as (runAsUser), so the volume's owner matches.
USER 65532:65532
WORKDIR /home/promobot
ENTRYPOINT ["promobot"]
CMD ["--help"]

ARG RUNTIME_IMAGE
ARG VERSION=""
ARG SOURCE_URL=""
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="promobot" \
      org.opencontainers.image.description="A GitOps promotion bot for GitLab: moves image tags dev -> test -> prod through merge requests" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
