import { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';
import { projectedGeo, type GeoReference } from './geotiff.js';

/**
 * Seeded synthetic multispectral scenes with a known geological map (docs/geomap.md): rock units
 * laid out by a domain-warped Voronoi partition, a reflectance spectrum per unit, intimate
 * (non-linear) mixing across boundaries, multiplicative topographic shading, saturation, sensor
 * noise and no-data holes. The real scenes of the geological-mapping paper are not reachable
 * offline; these let accuracy against a reference be measured exactly.
 */

export type Sensor = 'sentinel2' | 'aster';

/** Band centres in µm: Sentinel-2 B2–B8A, B11, B12 (the 10 bands at 10/20 m) and ASTER VNIR 1–3N + SWIR 4–9. */
export const SENSOR_BANDS: Record<Sensor, { names: string[]; microns: number[]; pixel: number }> = {
  sentinel2: {
    names: ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12'],
    microns: [0.49, 0.56, 0.665, 0.705, 0.74, 0.783, 0.842, 0.865, 1.61, 2.19], pixel: 10,
  },
  aster: {
    names: ['B1', 'B2', 'B3N', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9'],
    microns: [0.556, 0.661, 0.807, 1.656, 2.167, 2.209, 2.262, 2.336, 2.4], pixel: 30,
  },
};

export interface SceneOptions {
  sensor: Sensor;
  width?: number;
  height?: number;
  /** Number of rock units (2…12). */
  units?: number;
  seed?: number;
  /** Standard deviation of the additive sensor noise, in reflectance (default 0.005). */
  noise?: number;
  /** No-data discs (default 3). */
  holes?: number;
  /** Weight of topographic shading, 0 (flat) … 1 (pure Lambertian with sky light), default 0.2. */
  shading?: number;
}

export interface Scene {
  sensor: Sensor;
  width: number;
  height: number;
  bands: number;
  /** Band-major reflectance × 10 000 (Sentinel-2 L2A digital numbers), 0 = no data. */
  data: Uint16Array;
  noData: number;
  /** Unit id 0…units−1 for every pixel (the map covers the holes too). */
  reference: Uint8Array;
  units: number;
  /** units × bands reflectance of each pure unit. */
  signatures: Float64Array;
  geo: GeoReference;
}

/** Value noise: random values on an integer lattice, smoothly interpolated; octaves add finer detail. */
class FractalNoise {
  private readonly table: Float64Array;
  private readonly perm: Uint16Array;
  constructor(rng: Rng) {
    this.table = Float64Array.from({ length: 256 }, () => rng.uniform() * 2 - 1);
    this.perm = new Uint16Array(512);
    const p = Array.from({ length: 256 }, (_, i) => i);
    for (let i = 255; i > 0; i--) { const j = Math.floor(rng.uniform() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!]; }
    for (let i = 0; i < 512; i++) this.perm[i] = p[i & 255]!;
  }
  private lattice(ix: number, iy: number): number {
    return this.table[this.perm[(this.perm[ix & 255]! + iy) & 511]! & 255]!;
  }
  value(x: number, y: number): number {
    const ix = Math.floor(x), iy = Math.floor(y), fx = x - ix, fy = y - iy;
    const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
    const a = this.lattice(ix, iy), b = this.lattice(ix + 1, iy), c = this.lattice(ix, iy + 1), d = this.lattice(ix + 1, iy + 1);
    return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
  }
  /** Sum of octaves, each twice the frequency and half the amplitude; roughly in [−1, 1]. */
  fbm(x: number, y: number, octaves = 4): number {
    let s = 0, amp = 0.5, f = 1;
    for (let o = 0; o < octaves; o++) { s += amp * this.value(x * f, y * f); amp *= 0.5; f *= 2; }
    return s;
  }
}

/**
 * A reflectance spectrum in the style of rock spectra: a continuum (albedo and a red slope from iron
 * oxides) with Gaussian absorption features at diagnostic wavelengths, each unit drawing its own
 * depths — ferric iron ~0.9 µm, Al-OH clays ~2.2 µm, Mg-OH / carbonate ~2.33 µm, ferrous iron ~1.1 µm.
 */
function signature(microns: number[], rng: Rng): number[] {
  const albedo = 0.12 + 0.3 * rng.uniform(), slope = 0.12 * rng.uniform() - 0.02;
  const features: Array<[number, number, number]> = [
    [0.9, 0.12, 0.25 * rng.uniform()], [2.2, 0.05, 0.3 * rng.uniform()], [2.33, 0.06, 0.3 * rng.uniform()], [1.1, 0.25, 0.2 * rng.uniform()],
  ];
  return microns.map((w) => {
    let r = albedo + slope * Math.min(w - 0.5, 0.6);
    for (const [c, width, depth] of features) r *= 1 - depth * Math.exp(-0.5 * ((w - c) / width) ** 2);
    return Math.min(0.9, Math.max(0.02, r));
  });
}

const SUB = 3; // sub-pixels per side: a pixel's unit fractions are read from a 3 × 3 grid inside it

export function makeScene(opts: SceneOptions): Scene {
  const sensor = opts.sensor;
  if (!(sensor in SENSOR_BANDS)) throw new InflowError(`scene: sensor must be 'sentinel2' or 'aster', got ${String(sensor)}`);
  const width = opts.width ?? 256, height = opts.height ?? 256, units = opts.units ?? 5;
  const seed = opts.seed ?? 0, noise = opts.noise ?? 0.005, holes = opts.holes ?? 3;
  for (const [name, v, lo, hi] of [['width', width, 8, 8192], ['height', height, 8, 8192], ['units', units, 2, 12], ['holes', holes, 0, 50], ['seed', seed, 0, 0xffffffff]] as const)
    if (!Number.isInteger(v) || v < lo || v > hi) throw new InflowError(`scene: ${name} must be an integer in ${lo}…${hi}, got ${String(v)}`);
  if (!(noise >= 0 && noise <= 0.2)) throw new InflowError(`scene: noise must be in 0…0.2, got ${String(noise)}`);
  const shading = opts.shading ?? 0.2;
  if (!(shading >= 0 && shading <= 1)) throw new InflowError(`scene: shading must be in 0…1, got ${String(shading)}`);
  const { microns, pixel } = SENSOR_BANDS[sensor];
  const bands = microns.length;
  const rng = new Rng(seed);
  const warp = new FractalNoise(rng), terrain = new FractalNoise(rng), texture = new FractalNoise(rng);

  // Several Voronoi sites per unit make units non-convex and scattered, like outcrops of one formation.
  const sitesPer = 3, nSites = units * sitesPer;
  const sx = new Float64Array(nSites), sy = new Float64Array(nSites), sUnit = new Uint8Array(nSites);
  for (let s = 0; s < nSites; s++) { sx[s] = rng.uniform() * width; sy[s] = rng.uniform() * height; sUnit[s] = s % units; }
  const scale = Math.max(width, height);
  const unitAt = (x: number, y: number): number => {
    // Domain warping bends the straight Voronoi edges into natural-looking contacts.
    const u = x / scale * 4, v = y / scale * 4;
    const wx = x + 0.18 * scale * warp.fbm(u, v), wy = y + 0.18 * scale * warp.fbm(u + 17.3, v + 5.1);
    let best = 0, bd = Infinity;
    for (let s = 0; s < nSites; s++) { const d = (wx - sx[s]!) ** 2 + (wy - sy[s]!) ** 2; if (d < bd) { bd = d; best = s; } }
    return sUnit[best]!;
  };

  const signatures = new Float64Array(units * bands);
  for (let k = 0; k < units; k++) signature(microns, rng).forEach((r, b) => { signatures[k * bands + b] = r; });
  // Band-wise additive path radiance (haze): stronger at short wavelengths.
  const haze = microns.map((w) => 0.01 * (0.5 / w) ** 2);

  const plane = width * height;
  const data = new Uint16Array(plane * bands), reference = new Uint8Array(plane);
  const frac = new Float64Array(units), logMix = new Float64Array(bands);
  const sunAz = 2 * Math.PI * rng.uniform(), sunEl = (35 + 20 * rng.uniform()) * Math.PI / 180;
  const sun = [Math.cos(sunEl) * Math.cos(sunAz), Math.cos(sunEl) * Math.sin(sunAz), Math.sin(sunEl)];
  const relief = 25; // height scale of the terrain, in pixels: enough for slopes of tens of degrees
  const elev = (x: number, y: number): number => relief * terrain.fbm(x / scale * 3, y / scale * 3, 5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      frac.fill(0);
      for (let j = 0; j < SUB; j++) for (let i = 0; i < SUB; i++) frac[unitAt(x + (i + 0.5) / SUB, y + (j + 0.5) / SUB)]! += 1 / (SUB * SUB);
      let major = 0;
      for (let k = 1; k < units; k++) if (frac[k]! > frac[major]!) major = k;
      reference[y * width + x] = major;
      // Intimate mixing is multiplicative in reflectance (additive in absorbance), not a linear blend.
      logMix.fill(0);
      for (let k = 0; k < units; k++) if (frac[k]! > 0) for (let b = 0; b < bands; b++) logMix[b]! += frac[k]! * Math.log(signatures[k * bands + b]!);
      // Lambertian shading of the terrain's surface normal; a sky-light floor keeps shadows above zero.
      const gx = elev(x + 1, y) - elev(x - 1, y), gy = elev(x, y + 1) - elev(x, y - 1);
      const norm = Math.hypot(gx / 2, gy / 2, 1);
      const cosI = (-gx / 2 * sun[0]! - gy / 2 * sun[1]! + sun[2]!) / norm;
      const lambert = (0.25 + 0.75 * Math.max(0, cosI)) / (0.25 + 0.75 * sun[2]!);
      const shade = 1 - shading + shading * lambert;
      const grain = 1 + 0.08 * texture.fbm(x / 6, y / 6, 3); // weathering and grain-size variability within a unit
      for (let b = 0; b < bands; b++) {
        const r = Math.exp(logMix[b]!) * grain * shade + haze[b]! + noise * rng.normal();
        // Detectors saturate; 1 DN is the floor so 0 stays free for no-data.
        data[b * plane + y * width + x] = Math.max(1, Math.min(10000, Math.round(r * 10000)));
      }
    }
  }
  for (let h = 0; h < holes; h++) {
    const cx = rng.uniform() * width, cy = rng.uniform() * height, rad = (0.02 + 0.04 * rng.uniform()) * scale;
    for (let y = Math.max(0, Math.floor(cy - rad)); y < Math.min(height, Math.ceil(cy + rad)); y++)
      for (let x = Math.max(0, Math.floor(cx - rad)); x < Math.min(width, Math.ceil(cx + rad)); x++)
        if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) for (let b = 0; b < bands; b++) data[b * plane + y * width + x] = 0;
  }
  // A UTM zone 54S grid (EPSG 32754), the zone of western New South Wales.
  const geo = projectedGeo(32754, [560000, 6470000], pixel);
  return { sensor, width, height, bands, data, noData: 0, reference, units, signatures, geo };
}
