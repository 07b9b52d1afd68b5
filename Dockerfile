# bqlogfs in a container, for linux/amd64 and linux/arm64. See docs/operations.md ("In a container")
# for how the mount reaches the host and what each flag is for:
#   docker build -t bqlogfs .
#   docker run -d --name bqlogfs --device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor:unconfined \
#     -v ~/.config/gcloud:/root/.config/gcloud:ro \
#     bqlogfs mount /logs --project my-project --dataset gke_logs
#   docker exec -it bqlogfs bash        # then: ls /logs, tail -F /logs/.../current.log, jq . /logs/.bqlogfs/stats
# Without a cloud account, the demo:
#   docker run --rm -it --device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor:unconfined bqlogfs demo --mountpoint /logs

# The production node_modules, with fuse-native patched (patches/README.md) and compiled here on every
# architecture against the system's libfuse 2 headers: the build fails unless the binding answers
# interrupts and sets attribute timeouts per file, so a process killed while it waits for BigQuery is
# let go at once, and the kernel keeps finished hours' attributes, in the image too.
# fuse-native's helper package fuse-shared-library-linux carries an x86-64 libfuse.so to link with; on
# any other architecture (arm64) that is pointed at the system's library (libfuse-dev) first. The
# binding then needs libfuse.so.2, as the prebuilt one does.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ pkg-config libfuse-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bqlogfs
COPY package.json package-lock.json ./
COPY scripts/apply-patch.js scripts/patch-fuse-native.js ./scripts/
COPY patches ./patches
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && if [ "$(node -p process.arch)" != x64 ]; then \
      ln -sf "$(gcc -print-file-name=libfuse.so)" node_modules/fuse-shared-library-linux/libfuse/lib/libfuse.so; \
    fi \
 && npm rebuild --no-audit --no-fund \
 && node scripts/patch-fuse-native.js --require \
 && node -e "require('fuse-native')"

# dist/: the TypeScript type-checked and bundled into JavaScript (scripts/build.js).
FROM deps AS build
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js ./scripts/
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
COPY --from=deps /opt/bqlogfs/node_modules ./node_modules
COPY bin ./bin
COPY --from=build /opt/bqlogfs/dist ./dist
RUN mkdir -p /logs
# The same heap flags as bin/bqlogfs.cjs's own #! line, which a plain `node bin/bqlogfs.cjs` would skip.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--heap-growing-percent=200", "/opt/bqlogfs/bin/bqlogfs.cjs"]
# Healthy while the mount answers: its statistics file is read through FUSE. A mount elsewhere than
# /logs: --health-cmd 'cat /that/mountpoint/.bqlogfs/stats > /dev/null' on docker run.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD cat /logs/.bqlogfs/stats > /dev/null || exit 1
CMD ["--help"]
