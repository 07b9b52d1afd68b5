# bqlogfs in a container. FUSE needs the device and the capability:
#   docker build -t bqlogfs .
#   docker run --rm -it --device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor:unconfined \
#     -v ~/.config/gcloud:/root/.config/gcloud:ro \
#     bqlogfs mount /logs --project my-project --dataset gke_logs
# Without a cloud account, the demo:  docker run --rm -it --device /dev/fuse --cap-add SYS_ADMIN bqlogfs demo --mountpoint /logs
FROM node:20-bookworm-slim AS build
WORKDIR /opt/bqlogfs
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
# libfuse2 for fuse-native, fuse3 for fusermount (Debian's fuse would conflict with fuse3 on a host;
# here it is only the image's); less and jq for working with the files inside the container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfuse2 fuse3 less jq \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bqlogfs
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY --from=build /opt/bqlogfs/dist ./dist
RUN mkdir -p /logs
# The same heap flags as bin/bqlogfs.js's own #! line, which a plain `node bin/bqlogfs.js` would skip.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--max-old-space-size=128", "/opt/bqlogfs/bin/bqlogfs.js"]
# Healthy while the mount answers: its statistics file is read through FUSE.
HEALTHCHECK --interval=30s --timeout=10s CMD cat /logs/.bqlogfs/stats > /dev/null || exit 1
CMD ["--help"]
