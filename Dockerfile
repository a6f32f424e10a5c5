# codebot's bot and worker (one image, two commands). The sandbox image is built from sandbox-image/.
# Node 22 LTS. No secret is ever part of the image: .env stays out of the build context
# (.dockerignore), and configuration comes from the environment at run time.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.app.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.app.json && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN chmod +x dist/src/index.js && ln -s /app/dist/src/index.js /usr/local/bin/codebot
# No HEALTHCHECK here: the bot and the worker answer on different ports, so docker-compose.yml gives
# each its own (GET /readyz, with node's fetch: the slim image has no curl).
ENTRYPOINT ["codebot"]
CMD ["help"]
