# Correo container images: one build, one image per service.
#
# There is one final stage per service, named after its directory in services/, and
# compose picks one with `target:`:
#
#   docker build --target submission -t correo/submission .
#
# (`docker build` without --target builds the last stage, retrieval.)
#
# Every image holds only that service's production tree, made by `pnpm deploy --prod`
# and cut by scripts/prune-image-tree.sh to what runs (dist/, migrations, production
# dependencies without sources, type declarations or source maps), at the same path as
# in a checkout, so it runs exactly as `pnpm start` runs it:
# `node services/<name>/dist/main.js`. Each image also holds the admin CLI
# (packages/cli) as `correo` on PATH, in one layer that all five share:
#
#   docker compose exec submission correo domain add example.com
#
# A service binds to 0.0.0.0 and uses the standard ports of DESIGN.md's "Public
# interface defaults", except the ops server: it keeps its local port (submission 9101,
# routing 9102, relay-queue 9103, mailbox 9104, retrieval 9105) in its container too,
# so that no two services share a port under host networking or in one pod.
# On start a service creates its database if missing and migrates it
# (packages/db/migrations ships inside the deployed tree).
# docs/operations.md ("Images") says what each image weighs and how that was measured.

# ---- build: install, compile, and deploy a production-only tree per service ----
FROM node:20-bookworm-slim AS build
# No packageManager field on purpose (see TOOLCHAIN.md); pnpm is pinned here and in engines.
RUN npm i -g pnpm@12.4.2
WORKDIR /src
# The store is filled from the lockfile alone, so this layer survives source changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm build
# pnpm 12's deploy copies the workspace packages a service depends on (dist/ and
# migrations/ included) into the service's own node_modules; no --legacy needed.
RUN for dir in services/submission services/routing services/relay-queue services/mailbox \
               services/retrieval packages/cli; do \
      pnpm deploy --filter "@correo/${dir#*/}" --prod --offline "/prod/$dir" && \
      sh scripts/prune-image-tree.sh "/prod/$dir" || exit 1; \
    done

# ---- runtime: what every service image shares ----
FROM node:20-bookworm-slim AS runtime
# NODE_OPTIONS: the same V8 flag `pnpm start` gives each service (scripts/src/start.ts):
# young-generation semi-spaces of 2 MB instead of up to 16 MB (docs/performance.md, "Memory").
ENV NODE_ENV=production \
    LISTEN_HOST=0.0.0.0 \
    NODE_OPTIONS="--max-semi-space-size=2"
WORKDIR /app
# The admin CLI, `correo <noun> <verb>`, reading the same DATABASE_URL (and AMQP_URL,
# REDIS_URL for `correo queue …`) as the service it runs beside.
COPY --from=build /prod/packages/cli packages/cli
RUN printf '#!/bin/sh\nexec node /app/packages/cli/dist/main.js "$@"\n' >/usr/local/bin/correo && \
    chmod 755 /usr/local/bin/correo
# Files stay owned by root: the service reads its code, it never writes it.
USER node
# Slim images have no curl; node asks the ops server (OPS_PORT, set by each target).
# /healthz says the process is alive; /readyz (infra reachable) is for orchestrators
# that route traffic.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.OPS_PORT,path:'/healthz'},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]

# ---- one target per service ----
FROM runtime AS submission
COPY --from=build /prod/services/submission services/submission
ENV OPS_PORT=9101 \
    SUBMISSION_HTTP_PORT=8080 \
    SMTP_MX_PORT=25 \
    SMTP_SUBMISSION_PORT=587 \
    SMTPS_PORT=465
# HTTP API, SMTP MX, submission (STARTTLS), submissions (implicit TLS). Binding ports
# below 1024 as the node user works because Docker sets net.ipv4.ip_unprivileged_port_start=0.
EXPOSE 9101 8080 25 587 465
CMD ["node", "services/submission/dist/main.js"]

FROM runtime AS routing
COPY --from=build /prod/services/routing services/routing
ENV OPS_PORT=9102
EXPOSE 9102
CMD ["node", "services/routing/dist/main.js"]

FROM runtime AS relay-queue
COPY --from=build /prod/services/relay-queue services/relay-queue
ENV OPS_PORT=9103
EXPOSE 9103
CMD ["node", "services/relay-queue/dist/main.js"]

FROM runtime AS mailbox
COPY --from=build /prod/services/mailbox services/mailbox
ENV OPS_PORT=9104
EXPOSE 9104
CMD ["node", "services/mailbox/dist/main.js"]

FROM runtime AS retrieval
COPY --from=build /prod/services/retrieval services/retrieval
ENV OPS_PORT=9105
# POP3 on 110 as a non-root user: Docker lets containers bind ports below 1024
# (net.ipv4.ip_unprivileged_port_start=0), and compose sets that sysctl explicitly.
ENV POP3_PORT=110
# POP3S (implicit TLS) and the HTTP mailbox API.
ENV POP3S_PORT=995 RETRIEVAL_HTTP_PORT=8081
# IMAP (STARTTLS) and IMAPS (implicit TLS).
ENV IMAP_PORT=143 IMAPS_PORT=993
EXPOSE 9105 110 995 8081 143 993
CMD ["node", "services/retrieval/dist/main.js"]
