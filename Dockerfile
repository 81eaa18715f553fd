# The collector image (docker-compose.yml builds it): the sources compiled to dist/ by scripts/build,
# as `npm ci` does in the repo (bin/vigie.js runs dist/ while it is newer than the sources).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node scripts/build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore keeps tests, secrets, site data and local builds out of the image.
COPY . .
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/vigie && chown node:node /var/lib/vigie
USER node
VOLUME ["/var/lib/vigie"]
EXPOSE 8080
ENTRYPOINT ["node", "bin/vigie.js"]
CMD ["collector", "--config", "/etc/vigie/vigie.yaml"]
