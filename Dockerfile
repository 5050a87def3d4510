# Almanac in a container: two stages, the compiler only in the first.
#   docker build -t almanac .
#   docker run -p 3000:3000 -v almanac-data:/app/data almanac        (embedded mode: SQLite in the volume)
# Scale-out with PostgreSQL and Redis: compose.example.yml and docs/scale-out.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is compiled when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
COPY packages/sdk/package.json packages/sdk/
COPY examples/minimal-app/package.json examples/minimal-app/
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY bin bin
COPY scripts scripts
RUN node_modules/.bin/tsc -p tsconfig.build.json && node scripts/build-state.js stamp \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 ALMANAC_DATA_DIR=/app/data
WORKDIR /app
COPY --from=build /app/package.json /app/tsconfig.json /app/tsconfig.build.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The connect pages read their stylesheet, script and message catalogs from src/.
COPY --from=build /app/src src
COPY --from=build /app/bin bin
COPY --from=build /app/scripts scripts
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME /app/data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Almanac handles SIGTERM itself (drain, then exit); give `docker stop` more than ALMANAC_SHUTDOWN_TIMEOUT_SECONDS.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
