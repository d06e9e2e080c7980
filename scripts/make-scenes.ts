// Synthetic geological-mapping scenes (docs/geomap.md): for each sensor and seed, a multispectral
// GeoTIFF (uint16 reflectance × 10 000, no-data 0) and its reference rock-unit map (uint8).
//   node --import tsx scripts/make-scenes.ts [--out runs/geomap/scenes] [--sensors sentinel2,aster] [--seeds 1,2,3] [--size 256] [--units 5]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLabelMap, writeRaster } from '../src/geo/geotiff.js';
import { makeScene, SENSOR_BANDS, type Sensor } from '../src/geo/scene.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/geomap/scenes' },
    sensors: { type: 'string', default: 'sentinel2,aster' },
    seeds: { type: 'string', default: '1,2,3' },
    size: { type: 'string', default: '256' },
    units: { type: 'string', default: '5' },
  },
});

function die(msg: string): never {
  console.error(`make-scenes: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) ? Number(s) : die(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`));
const sensors = values.sensors.split(',').map((s) => (s in SENSOR_BANDS ? (s as Sensor) : die(`unknown sensor ${JSON.stringify(s)} (sentinel2, aster)`)));
const seeds = values.seeds.split(',').map((s) => int('seeds', s));
const size = int('size', values.size), units = int('units', values.units);

mkdirSync(values.out, { recursive: true });
for (const sensor of sensors) {
  for (const seed of seeds) {
    let scene;
    try {
      scene = makeScene({ sensor, seed, width: size, height: size, units });
    } catch (e) {
      die((e as Error).message);
    }
    const base = join(values.out, `${sensor}-${seed}`);
    await writeRaster(`${base}.tif`, scene.data, scene.width, scene.height, scene.geo, scene.noData);
    await writeLabelMap(`${base}-reference.tif`, scene.reference, scene.width, scene.height, scene.geo);
    console.log(`${base}.tif: ${scene.width}×${scene.height}, ${scene.bands} bands; ${base}-reference.tif: ${scene.units} units`);
  }
}
