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
# Node sizes V8's old generation from the container's memory limit (it reads the cgroup limit at
# start-up: 256 MiB of old space in a 512Mi pod), but not the young generation, which then stays
# at 1 MiB semi-spaces: on a many-user load that cost the gateway 1.7x the CPU per request in
# scavenges inside a 512 MiB cgroup. 32 MiB semi-spaces (a 96 MiB young generation) measured as
# cheap as an unlimited process and fit 100,000 users in 512 MiB (README, "Memory and pod sizing";
# npm run bench starts its pod-memory run with this line's flags).
ENV NODE_OPTIONS=--max-semi-space-size=32
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
