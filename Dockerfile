# Ember's image: one `ember` binary on a small Debian base, run as a non-root user.
# Build: docker build -t ember:0.1.0 .
FROM rust:1.95-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mold protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ember-cli \
 && install -D -m 0755 target/release/ember /out/ember

FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent ember \
 && mkdir -p /var/data/ember /opt/ember/app \
 && chown ember:ember /var/data/ember
COPY --from=build /out/ember /usr/local/bin/ember
# Numeric, so runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/data/ember
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["ember", "--help"]
