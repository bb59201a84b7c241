#!/bin/sh
# Cuts from a `pnpm deploy --prod` tree what a container never reads at run time:
# TypeScript sources, tests and build files of the workspace packages, type
# declarations, source maps and markdown of the dependencies. Licences stay.
# The Dockerfile runs it on every deployed tree; docs/operations.md ("Images") has
# the sizes before and after, measured by running the same two steps into /tmp.
set -eu
tree=${1:?usage: prune-image-tree.sh <deployed tree>}
# Workspace packages: the service itself and its @correo/* copies under .pnpm.
for pkg in "$tree" "$tree"/node_modules/.pnpm/@correo+*/node_modules/@correo/*; do
  [ -d "$pkg" ] || continue
  rm -rf "$pkg/src" "$pkg/test" "$pkg"/tsconfig*.json "$pkg"/*.tsbuildinfo
done
rm -f "$tree/pnpm-lock.yaml" "$tree/pnpm-workspace.yaml"
# Node 20 runs none of these, and the images run without --enable-source-maps.
find "$tree" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' -o -name '*.tsbuildinfo' \) -delete
# Packages that are nothing but types (@types/*).
rm -rf "$tree"/node_modules/.pnpm/@types+*
find "$tree" -xtype l -delete
