# syntax=docker/dockerfile:1
# decom's container image: the static (musl) binary on distroless/static, run as a
# user without privileges. Built for linux/amd64 and linux/arm64 by the release
# workflow; locally:
#
#   docker build --build-arg DECOM_BUILD_COMMIT="$(git rev-parse HEAD)" -t decom .
#   docker run --rm -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     -e AWS_REGION -v "$PWD:/work" --user "$(id -u):$(id -g)" decom plan decommission/
#
# docs/install.md has more. Checked by hadolint in .ci/lint.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-alpine AS build
WORKDIR /src
# The commit `decom --version` names (build.rs): the build context has no .git.
ARG DECOM_BUILD_COMMIT=""
COPY . .
# Alpine's Rust targets musl and links statically: the binary needs no libc at run
# time. The caches keep the registry and the target directory between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    DECOM_BUILD_COMMIT="${DECOM_BUILD_COMMIT}" cargo build --release --locked --bin decom \
    && cp target/release/decom /usr/local/bin/decom \
    && /usr/local/bin/decom --version

# CA certificates, /etc/passwd with the user nonroot (65532), no shell, no package
# manager.
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="decom" \
      org.opencontainers.image.description="Declarative, reviewable AWS decommissioning: plan, then apply, in dependency order." \
      org.opencontainers.image.source="https://github.com/decom-cli/decom" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /usr/local/bin/decom /usr/local/bin/decom
USER 65532:65532
# Mount the directory holding the specs here; plan files and .decom/ are written here.
WORKDIR /work
ENTRYPOINT ["decom"]
CMD ["--help"]
