# syntax=docker/dockerfile:1
# Node.js 24 LTS, the supported runtime (package.json engines ">=24"; CI tests on 24).
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npx tsc -p .

# Production dependencies only.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Heap sizing from the container's memory limit (Node reads the cgroup limit at start-up). Left
# alone, V8 takes half the limit for the old generation (256 MiB in a 512Mi pod), grows it by
# small steps at that size (more full collections), and keeps the young generation at 3 MiB: on a
# many-user load that cost 1.2-1.4x the CPU per request of the same process without a limit.
# 65% of the limit for the old generation and 32 MiB semi-spaces (a 96 MiB young generation) make
# a heap limit of 428 MiB in a 512Mi pod: with one model's 64 MiB of extraction states outside
# the heap, 492 MiB, so V8 reaches its limit (and collects) before the kernel's OOM killer does.
# README, Operations, "Memory and pod sizing"; npm run bench starts its pod-memory run with these.
ENV NODE_OPTIONS="--max-old-space-size-percentage=65 --max-semi-space-size=32"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# Envoy's ext_authz protos, loaded by the gRPC door at start-up.
COPY proto ./proto
# The security console's page, script and style sheet, served on the admin port.
COPY console ./console
COPY package.json ./
# The image's unprivileged user (uid 1000); no secrets or configs are baked in:
# mount the config (ConfigMap) at /etc/inference-gateway/gateway.yaml.
USER 1000:1000
# 8080 serving (proxy), 8082 admin, 8000 ext-authz HTTP, 9000 ext-authz gRPC
EXPOSE 8080 8082 8000 9000
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve", "--config", "/etc/inference-gateway/gateway.yaml"]
