# The ecr-credentials image: one static binary and CA certificates, nothing else.
#
# Base images are build arguments so that an offline machine can substitute
# images it made itself (the tests do: see internal/testing/imagetest).
#   GO_IMAGE   must have the Go toolchain on PATH, /bin/sh, and
#              /etc/ssl/certs/ca-certificates.crt
#   BASE_IMAGE the final base; scratch keeps the image to a few MB
ARG GO_IMAGE=golang:1.26-bookworm
ARG BASE_IMAGE=scratch

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
# -tags release leaves out the development commands (demo, emulator).
# Inlining is off except in the runtime and crypto: a login runs each
# code path a few times, so outside those hot loops inlining only makes
# the binary (and the part of it in memory) larger: 0.6 MB smaller, no
# slower (docs/benchmarks.md). .goreleaser.yaml has the same flags.
RUN go build -trimpath -tags release \
      -gcflags=all=-l -gcflags=runtime/...= -gcflags=internal/runtime/...= \
      -gcflags=crypto/...= -gcflags=vendor/golang.org/x/crypto/...= \
      -ldflags "-s -w -buildid= \
        -X github.com/ecr-credentials/ecr-credentials/internal/app.Version=${VERSION} \
        -X github.com/ecr-credentials/ecr-credentials/internal/app.Commit=${COMMIT} \
        -X github.com/ecr-credentials/ecr-credentials/internal/app.Date=${DATE}" \
      -o /out/usr/local/bin/ecr-credentials . \
 && ln -s ecr-credentials /out/usr/local/bin/ecr-credentials-post \
 && mkdir -p /out/etc/ssl/certs /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt \
 && chmod 1777 /out/tmp

FROM ${BASE_IMAGE}
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="ecr-credentials" \
      org.opencontainers.image.description="Log a CI job in to Amazon ECR with the job's own identity" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/ /
# GitHub runs container actions as root (the workspace and file-command
# directories it mounts belong to the runner); there is no other user here.
USER 0:0
ENTRYPOINT ["/usr/local/bin/ecr-credentials"]
