#!/bin/sh
# update-vendor.sh re-copies the dashboard's third-party browser files from
# npm into vendor/, where go:embed picks them up. Run it from anywhere after
# changing the versions pinned in package.json:
#
#	internal/web/assets/update-vendor.sh
#
# The dashboard needs no build step: vendor/ is committed.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
rm -rf vendor
mkdir -p vendor/uplot vendor/leaflet/images
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css vendor/uplot/
cp node_modules/uplot/LICENSE vendor/uplot/LICENSE
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css vendor/leaflet/
cp node_modules/leaflet/dist/images/*.png vendor/leaflet/images/
cp node_modules/leaflet/LICENSE vendor/leaflet/LICENSE
# Drop the source-map comment: the map is not shipped.
sed -i.bak '/^\/\/# sourceMappingURL=/d' vendor/leaflet/leaflet.js && rm -f vendor/leaflet/leaflet.js.bak
printf 'uplot %s\nleaflet %s\n' \
	"$(node -p "require('./node_modules/uplot/package.json').version")" \
	"$(node -p "require('./node_modules/leaflet/package.json').version")" >vendor/VERSIONS
