# Builds the otelcol-agents image with the same manifest and configs as collector/build.sh.
# Untested here (no Docker engine on the development machines): see docs/collector.md.
FROM golang:1.25-bookworm AS build
RUN go install go.opentelemetry.io/collector/cmd/builder@v0.159.0
WORKDIR /src
COPY collector/manifest.yaml .
RUN sed -i 's|^  output_path:.*|  output_path: /out|' manifest.yaml && builder --config manifest.yaml

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/otelcol-agents /otelcol-agents
COPY collector/ /etc/otelcol-agents/
# Inside the container network only; publish ports on the host as 127.0.0.1:PORT.
ENV OTEL_AGENTS_COLLECTOR_HOST=0.0.0.0 \
    OTEL_AGENTS_COLLECTOR_DATA_DIR=/var/lib/otelcol-agents/data \
    OTEL_AGENTS_COLLECTOR_FILE_DIR=/var/lib/otelcol-agents/files
ENTRYPOINT ["/otelcol-agents"]
CMD ["--config", "/etc/otelcol-agents/config.yaml", "--config", "/etc/otelcol-agents/fragments/jaeger.yaml"]
