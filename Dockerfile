# claude-mem server: a static binary on a minimal base. The bundled plugins
# are the same binary re-executed, so one file is the whole server.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# modernc.org/sqlite is pure Go, so the binary needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/claude-mem ./cmd/claude-mem \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/claude-mem /usr/local/bin/claude-mem
# An empty /data owned by the runtime user, so a fresh named volume is
# writable without running as root.
COPY --from=build --chown=65532:65532 /out/data /data
ENV CLAUDE_MEM_DATA_DIR=/data \
    CLAUDE_MEM_SERVER_HOST=0.0.0.0 \
    CLAUDE_MEM_SERVER_PORT=37777
VOLUME ["/data"]
EXPOSE 37777
USER nonroot
ENTRYPOINT ["/usr/local/bin/claude-mem"]
CMD ["server", "start", "--foreground"]
