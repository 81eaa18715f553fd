# The collector image (docker-compose.yml builds it). The TypeScript runs through tsx, as in the repo:
# no build step, the same files the tests ran.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore keeps tests, secrets, site data and local builds out of the image.
COPY . .
RUN mkdir -p /var/lib/vigie && chown node:node /var/lib/vigie
USER node
VOLUME ["/var/lib/vigie"]
EXPOSE 8080
ENTRYPOINT ["node", "bin/vigie.js"]
CMD ["collector", "--config", "/etc/vigie/vigie.yaml"]
