# syntax=docker/dockerfile:1
#
# autoresearch on a GPU host:
#   docker build -t autoresearch .
#   docker run --gpus all --init -v "$PWD":/repo -v autoresearch-state:/state \
#     -v autoresearch-cache:/home/research/.cache/autoresearch --env-file autoresearch.env \
#     autoresearch bot --repo /repo --state-dir /state
#
# Build stage: cgo on, because go-nvml loads libnvidia-ml.so.1 through cgo at
# run time (the NVIDIA container toolkit mounts it in; nothing is linked at
# build time). Bookworm on both sides so the binary's glibc matches.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=1 CGO_CFLAGS=-Wno-deprecated-declarations
RUN go build -trimpath -ldflags="-s -w" -o /out/autoresearch ./cmd/autoresearch \
	&& /out/autoresearch help >/dev/null

# Runtime: git, Python, uv (for `uv run train.py`), CA certificates (Slack,
# the LLM endpoint, Hugging Face for prepare.py), tini to reap the trainer's
# orphans when the container runs without --init.
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends git python3 ca-certificates curl tini \
	&& rm -rf /var/lib/apt/lists/* \
	&& git config --system --add safe.directory '*'
COPY --from=ghcr.io/astral-sh/uv:latest /uv /uvx /usr/local/bin/
COPY --from=build /out/autoresearch /usr/local/bin/autoresearch

ARG UID=1000
ARG GID=1000
RUN groupadd --gid "${GID}" research \
	&& useradd --uid "${UID}" --gid research --create-home --shell /bin/bash research \
	&& mkdir -p /repo /state /home/research/.cache/autoresearch \
	&& chown -R research:research /repo /state /home/research

# The GPUs and the NVML library come from the NVIDIA container toolkit
# (docker run --gpus all); utility is what NVML needs, compute what CUDA needs.
ENV NVIDIA_VISIBLE_DEVICES=all \
	NVIDIA_DRIVER_CAPABILITIES=compute,utility \
	HOME=/home/research \
	UV_CACHE_DIR=/state/uv-cache \
	UV_PYTHON_INSTALL_DIR=/state/uv-python \
	UV_LINK_MODE=copy

USER research
WORKDIR /repo
# The research repo, the bot's store and logs, and upstream prepare.py's
# data shards and tokenizer (~/.cache/autoresearch).
VOLUME ["/repo", "/state", "/home/research/.cache/autoresearch"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/autoresearch"]
CMD ["bot", "--repo", "/repo", "--state-dir", "/state"]
