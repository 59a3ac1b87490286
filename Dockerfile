# syntax=docker/dockerfile:1
#
# Build:  docker build -t shopvo .
# Run:    docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://… -e SHOPVO_SECRET_KEY=… shopvo
#
# The image has no PostgreSQL server in it, so DATABASE_URL is required (the zero-setup private cluster
# needs the PostgreSQL server binaries). Migrations are embedded in the binary and run on `serve`.

############################ build ############################
FROM rust:1-bookworm AS builder
WORKDIR /src

# 1. Dependencies only: build the dependency graph against placeholder sources, so this layer is reused
#    until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
# Every target the manifest declares must exist, so the bench gets a stub too.
RUN mkdir src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/checkout.rs \
    && cargo build --release --locked \
    && rm -rf src benches

# 2. The application itself (migrations are embedded at compile time by sqlx::migrate!).
COPY migrations ./migrations
COPY benches ./benches
COPY src ./src
# COPY keeps the files' original mtimes, which may be older than the placeholder build: touch so Cargo
# rebuilds the crate rather than reusing the placeholder binary.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && install -m 0755 target/release/shopvo /usr/local/bin/shopvo

############################ runtime ############################
FROM debian:bookworm-slim

# ca-certificates for outbound TLS; curl only for the container health check (GET /readyz).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user; its data folder holds the generated server secret when SHOPVO_SECRET_KEY is unset.
RUN groupadd --system --gid 10001 shopvo \
    && useradd --system --uid 10001 --gid shopvo --home-dir /var/lib/shopvo --shell /usr/sbin/nologin shopvo \
    && install -d -o shopvo -g shopvo -m 0700 /var/lib/shopvo

COPY --from=builder /usr/local/bin/shopvo /usr/local/bin/shopvo

USER shopvo:shopvo
WORKDIR /var/lib/shopvo
# NO_COLOR: plain log lines in `docker logs` (or set SHOPVO_LOG_FORMAT=json).
ENV SHOPVO_BIND=0.0.0.0:8080 \
    SHOPVO_DATA_DIR=/var/lib/shopvo \
    NO_COLOR=1
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1

ENTRYPOINT ["shopvo"]
CMD ["serve"]
