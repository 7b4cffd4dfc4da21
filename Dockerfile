# callguard (and, from the same image, the example function and the one-shot PKI/render step).
# Runs TypeScript with tsx, exactly as the tests and `npm run stack` do.
FROM node:20-slim

# openssl: scripts/dev-pki.sh runs in the compose `pki` service.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# `npm ci` runs `buf generate` (postinstall), which needs proto/ and buf.gen.yaml.
COPY package.json package-lock.json buf.gen.yaml ./
COPY proto ./proto
RUN npm ci && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY examples ./examples
COPY envoy ./envoy

USER node
EXPOSE 9191
ENTRYPOINT ["node", "--import", "tsx", "src/cli/main.ts"]
CMD ["serve", "--config", "/stack/callguard.yaml"]
