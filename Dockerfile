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
RUN apt-get update \
 && apt-get install -y --no-install-recommends fuse \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bqlogfs
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY --from=build /opt/bqlogfs/dist ./dist
RUN mkdir -p /logs
ENTRYPOINT ["node", "/opt/bqlogfs/bin/bqlogfs.js"]
CMD ["--help"]
