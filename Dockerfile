# callguard's production image (the last stage, `runtime`: what `docker build .` gives), and `tools`: the
# compose stack's one-shot PKI/render step and the example function, which run TypeScript with tsx.
# NODE_IMAGE: any Node 20 image on Debian (CI passes a local stand-in, scripts/docker-engine.sh).
ARG NODE_IMAGE=node:20-slim

# Every dependency; `npm ci` runs `buf generate` (postinstall), which needs proto/ and buf.gen.yaml.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json buf.gen.yaml ./
COPY proto ./proto
# A build secret `npm_ca` (a CA bundle; CI's registry is reached through its own CA) is trusted by npm for
# this step only: a secret mount never enters a layer. Empty or absent: the image's own trust store.
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund \
 && npm cache clean --force

# tsc: src/ (with src/gen and the JSON schemas) -> dist/; then the runtime dependencies alone.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# The compose stack's helpers: scripts/render-stack.ts (needs openssl: scripts/dev-pki.sh),
# scripts/mint-token.ts and examples/function/server.ts, with tsx from the devDependencies.
FROM deps AS tools
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY examples ./examples
COPY envoy ./envoy
USER node
ENTRYPOINT ["node", "--import", "tsx"]

# Production: compiled JavaScript and the runtime dependencies only (no tsx, no TypeScript, no devDependencies),
# as the unprivileged `node` user; nothing is written inside the image (compose runs it read-only).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 9191
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--config", "/stack/callguard.yaml"]
