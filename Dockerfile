# memserve in a container: `docker build --build-arg SITE=path/in/context -t memserve .`
#
# The build stage installs the dependencies, makes the single executable and runs `memserve build`
# on the site, so the image starts at maximum compression at once (a warm start from /cache). The
# runtime stage holds only the executable, the site and that cache, and runs as a non-root user.
# test/container.test.ts runs these same steps without a container engine (see README, Deploy).
ARG BUILD_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
RUN npm run build:bin
# The site lives at /site here as at run time: the persisted image is keyed by its path.
ARG SITE=examples/site
COPY ${SITE} /site
RUN ./dist/memserve build /site --cache-dir /cache

FROM ${RUNTIME_IMAGE}
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin memserve
COPY --from=build /src/dist/memserve /usr/local/bin/memserve
COPY --from=build --chown=10001:10001 /site /site
COPY --from=build --chown=10001:10001 /cache /cache
USER 10001
ENV PORT=8080 MEMSERVE_DIR=/site MEMSERVE_HOST=0.0.0.0 MEMSERVE_CACHE_DIR=/cache MEMSERVE_WATCH=0 MEMSERVE_ADMIN_PORT=9090 MEMSERVE_ADMIN_HOST=0.0.0.0
EXPOSE 8080 9090
# No HTTP client in the image: bash's /dev/tcp asks /readyz, which is 200 only while serving.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9090 && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# memserve drains on SIGTERM: in-flight responses finish (--shutdown-timeout, default 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["memserve"]
