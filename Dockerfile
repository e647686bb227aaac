# syntax=docker/dockerfile:1
#
# confab's container image: build with the Rust toolchain Cargo.toml asks for
# (rust-version), run on distroless/cc (glibc, libgcc, CA roots, a nonroot
# user; no shell, no package manager). Both stages are Debian 12, so the
# binary finds the glibc it was linked against.
#
#   docker build -t confab .
#   docker run -p 3001:3001 -v confab-data:/data confab
#
# Everything else (ports, database, Redis, secrets) is configuration:
# CONFAB_* variables, or a confab.toml mounted at /etc/confab/confab.toml
# (read automatically). See docs/deploy.md.

ARG RUST_VERSION=1.94

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# gcc and libc6-dev come with the image: SQLite (rusqlite's `bundled`),
# libwebp and mimalloc are compiled from source. TLS is rustls: no OpenSSL.
# The build context is what .dockerignore lets through: the workspace's
# members (the crate, the load generator, the socketioxide-alone peer, the
# vendored parser), the migrations and the assets compiled into the binary.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin confab \
 && install -D -m 0755 target/release/confab /out/usr/local/bin/confab \
 && install -d -m 0700 /out/data /out/data/uploads \
 && install -d -m 0755 /out/etc/confab

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/usr/local/bin/confab /usr/local/bin/confab
# The data directory belongs to the image's user (nonroot, 65532): a fresh
# named volume mounted on /data (or on /data/uploads) takes this ownership.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/etc/confab /etc/confab
COPY LICENSE /usr/share/doc/confab/LICENSE
# ./confab.toml is read when present: mount one at /etc/confab/confab.toml.
WORKDIR /etc/confab
ENV CONFAB_DATA_DIR=/data
VOLUME ["/data"]
# Dozaar, Syarah, JobSpare, V Chat, Voxora: one dialect per port.
EXPOSE 3001 3005 4000 8081 3002
USER 65532:65532
# `confab health` GETs /healthz on the first enabled dialect's port (from the
# same configuration as the server) and exits 0 or 1; no curl needed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/confab", "health", "--timeout", "4s"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/confab"]
CMD ["serve"]
