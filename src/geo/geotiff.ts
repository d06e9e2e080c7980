import { open, writeFile } from 'node:fs/promises';
import { fromFile, writeArrayBuffer, type GeoTIFF, type GeoTIFFImage, type GeotiffWriterMetadata, type TypedArray } from 'geotiff';
import { InflowError } from '../engine/errors.js';

/**
 * Where a raster sits on the ground, as its file stated it. The raw GeoTIFF tags are kept verbatim
 * so a label map written from this raster carries exactly the same georeferencing (CRS included),
 * whatever keys the source used; origin / pixelSize / epsg are the convenient readings of them.
 */
export interface GeoReference {
  /** Model coordinates of the top-left corner of the top-left pixel, or null when not stated. */
  origin: [number, number] | null;
  /** Ground size of one pixel along x and y (y negative for north-up rasters), or null. */
  pixelSize: [number, number] | null;
  /** EPSG code of the projected or geographic CRS, when the GeoKeys name one. */
  epsg: number | null;
  /** The GeoKeys, parsed (name → value). */
  geoKeys: Record<string, unknown>;
  modelPixelScale?: number[];
  modelTiepoint?: number[];
  modelTransformation?: number[];
  geoKeyDirectory?: number[];
  geoAsciiParams?: string;
  geoDoubleParams?: number[];
}

export interface Raster {
  width: number;
  height: number;
  bands: number;
  /** Band-major: band b, row y, column x at data[(b * height + y) * width + x]. */
  data: Float32Array;
  /** The file's no-data value (GDAL_NODATA), or null. */
  noData: number | null;
  /** e.g. 'uint16', 'float32': the sample type the file stored. */
  sampleType: string;
  geo: GeoReference;
}

export interface ReadOptions {
  /** Refuse files whose header states more than this many values (pixels × bands) before reading any. */
  maxValues?: number;
  /** Zero-based band indices to read (default: all). */
  bands?: readonly number[];
  /** Values decoded per window of rows (default about 4 M): bounds the native copy held at once. */
  windowValues?: number;
}

/** 2^28 float32 values is 1 GiB: a 10⁷-pixel, 10-band scene (10⁸ values) fits with room to spare. */
export const DEFAULT_MAX_VALUES = 2 ** 28;
const WINDOW_VALUES = 1 << 22;

const fail = (file: string, msg: string): never => { throw new InflowError(`${file}: ${msg}`); };
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160);

function sampleTypeOf(image: GeoTIFFImage, file: string): string {
  const kinds = new Set<string>();
  for (let s = 0; s < image.getSamplesPerPixel(); s++) {
    const format = image.getSampleFormat(s), bits = image.getBitsPerSample(s);
    const kind = format === 1 ? 'uint' : format === 2 ? 'int' : format === 3 ? 'float' : null;
    if (kind === null) fail(file, `sample format ${format} is not supported (only unsigned, signed integer and float samples)`);
    if (kind === 'float' ? bits !== 32 && bits !== 64 : bits < 1 || bits > 32)
      fail(file, `${bits}-bit ${kind} samples are not supported`);
    kinds.add(`${kind}${bits}`);
  }
  return [...kinds].join('/');
}

async function loadGeo(image: GeoTIFFImage): Promise<GeoReference> {
  const dir = image.getFileDirectory();
  const nums = async (tag: 'ModelPixelScale' | 'ModelTiepoint' | 'ModelTransformation' | 'GeoKeyDirectory' | 'GeoDoubleParams'): Promise<number[] | undefined> => {
    if (!dir.hasTag(tag)) return undefined;
    const v = await dir.loadValue(tag);
    return v === undefined ? undefined : Array.from(v as ArrayLike<number>, Number);
  };
  const geo: GeoReference = { origin: null, pixelSize: null, epsg: null, geoKeys: {} };
  const scale = await nums('ModelPixelScale'), tie = await nums('ModelTiepoint'), tf = await nums('ModelTransformation');
  const keyDir = await nums('GeoKeyDirectory'), doubles = await nums('GeoDoubleParams');
  if (scale) geo.modelPixelScale = scale;
  if (tie) geo.modelTiepoint = tie;
  if (tf) geo.modelTransformation = tf;
  if (keyDir) geo.geoKeyDirectory = keyDir;
  if (doubles) geo.geoDoubleParams = doubles;
  if (dir.hasTag('GeoAsciiParams')) geo.geoAsciiParams = String(await dir.loadValue('GeoAsciiParams'));
  if (keyDir) geo.geoKeys = (dir.parseGeoKeyDirectory() ?? {}) as Record<string, unknown>;
  // A tiepoint anchors raster (i, j) to model (x, y); the top-left corner is that minus i, j pixels.
  if (tie && tie.length >= 6 && scale && scale.length >= 2) {
    geo.pixelSize = [scale[0]!, -scale[1]!];
    geo.origin = [tie[3]! - tie[0]! * scale[0]!, tie[4]! + tie[1]! * scale[1]!];
  } else if (tf && tf.length >= 16) {
    geo.pixelSize = [tf[0]!, tf[5]!];
    geo.origin = [tf[3]!, tf[7]!];
  }
  const code = geo.geoKeys.ProjectedCSTypeGeoKey ?? geo.geoKeys.GeographicTypeGeoKey;
  // 32767 is GeoTIFF's "user-defined": no EPSG code to report.
  if (typeof code === 'number' && code > 0 && code !== 32767) geo.epsg = code;
  return geo;
}

/**
 * Reads a multi-band GeoTIFF into band-major float32. The header's width × height × bands is checked
 * against maxValues before any pixel is decoded, so a hostile or mistaken header cannot make us
 * allocate gigabytes. Rows are decoded in windows; strips, tiles, pixel- or band-interleaving and the
 * codecs are the geotiff package's.
 */
export async function readGeoTiff(file: string, opts: ReadOptions = {}): Promise<Raster> {
  const maxValues = opts.maxValues ?? DEFAULT_MAX_VALUES, windowValues = opts.windowValues ?? WINDOW_VALUES;
  if (!Number.isInteger(maxValues) || maxValues < 1) fail(file, `maxValues must be a positive integer, got ${String(maxValues)}`);
  if (!Number.isInteger(windowValues) || windowValues < 1) fail(file, `windowValues must be a positive integer, got ${String(windowValues)}`);
  // The byte-order mark and magic number (42, or 43 for BigTIFF) are checked here because geotiff
  // leaves its file handle open when it rejects a header.
  const head = new Uint8Array(4);
  let size = 0;
  try {
    const fh = await open(file, 'r');
    try { await fh.read(head, 0, 4, 0); size = (await fh.stat()).size; } finally { await fh.close(); }
  } catch (e) {
    return fail(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? firstLine(e)})`);
  }
  const le = head[0] === 0x49 && head[1] === 0x49, be = head[0] === 0x4d && head[1] === 0x4d;
  const magic = le ? head[2]! | head[3]! << 8 : head[2]! << 8 | head[3]!;
  if (!(le || be) || (magic !== 42 && magic !== 43)) fail(file, 'not a GeoTIFF (no TIFF header)');
  // fromFile reads byte ranges on demand: the header first, then only the strips or tiles a window
  // needs, so neither the file nor a band is ever held whole in its native type.
  let tiff: GeoTIFF;
  try {
    tiff = await fromFile(file);
  } catch (e) {
    return fail(file, `not a readable GeoTIFF (${firstLine(e)})`);
  }
  try {
    return await decode(tiff, file, maxValues, windowValues, opts.bands, size);
  } finally {
    await tiff.close();
  }
}

/**
 * geotiff reads the missing blocks of a file cut short (a broken download or copy) as zeros, which
 * would pass silently as no-data; every strip or tile must lie inside the file.
 */
async function checkBlocksInFile(image: GeoTIFFImage, file: string, size: number): Promise<void> {
  const dir = image.getFileDirectory();
  const tiled = dir.hasTag('TileOffsets');
  const offsets = await dir.loadValue(tiled ? 'TileOffsets' : 'StripOffsets') as ArrayLike<number | bigint> | undefined;
  const counts = await dir.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts') as ArrayLike<number | bigint> | undefined;
  if (!offsets || !counts || offsets.length !== counts.length) fail(file, `not a readable GeoTIFF (its ${tiled ? 'tile' : 'strip'} offsets and byte counts are missing or disagree)`);
  for (let i = 0; i < offsets!.length; i++) {
    const end = Number(offsets![i]!) + Number(counts![i]!);
    if (end > size) fail(file, `truncated: its pixel data runs to byte ${end} but the file has ${size} bytes`);
  }
}

async function decode(tiff: GeoTIFF, file: string, maxValues: number, windowValues: number, selected: readonly number[] | undefined, size: number): Promise<Raster> {
  let image: GeoTIFFImage;
  try {
    image = await tiff.getImage(0);
  } catch (e) {
    return fail(file, `not a readable GeoTIFF (${firstLine(e)})`);
  }
  const width = image.getWidth(), height = image.getHeight(), fileBands = image.getSamplesPerPixel();
  if (!(width >= 1 && height >= 1 && fileBands >= 1)) fail(file, `not a readable GeoTIFF (its first image is ${width}×${height} with ${fileBands} samples per pixel)`);
  const bands = selected ? [...selected] : Array.from({ length: fileBands }, (_, i) => i);
  if (bands.length === 0) fail(file, 'no bands selected');
  for (const b of bands)
    if (!Number.isInteger(b) || b < 0 || b >= fileBands) fail(file, `band ${String(b)} does not exist (the file has ${fileBands}, numbered from 0)`);
  const total = width * height * bands.length;
  if (total > maxValues)
    fail(file, `${width}×${height} pixels × ${bands.length} bands = ${total} values exceeds the limit of ${maxValues}`);
  const sampleType = sampleTypeOf(image, file);
  await checkBlocksInFile(image, file, size);
  const geo = await loadGeo(image);
  const data = new Float32Array(total);
  const plane = width * height;
  // Windows are whole multiples of the strip or tile height, so no block is decoded twice (a
  // single-strip file is read in one window).
  const blockRows = Math.max(1, Math.min(height, image.getTileHeight()));
  const rowsPerWindow = blockRows * Math.max(1, Math.floor(windowValues / (width * bands.length * blockRows)));
  for (let y0 = 0; y0 < height; y0 += rowsPerWindow) {
    const y1 = Math.min(height, y0 + rowsPerWindow);
    let parts: TypedArray[];
    try {
      parts = await image.readRasters({ window: [0, y0, width, y1], samples: bands, interleave: false }) as unknown as TypedArray[];
    } catch (e) {
      return fail(file, `pixel data cannot be decoded (${firstLine(e)})`);
    }
    for (let i = 0; i < bands.length; i++) data.set(parts[i]!, i * plane + y0 * width);
  }
  const nd = image.getGDALNoData();
  return { width, height, bands: bands.length, data, noData: nd, sampleType, geo };
}

/** Georeferencing tags for geotiff's writer, copied verbatim from a raster we read. */
function geoMetadata(geo: GeoReference | null): GeotiffWriterMetadata {
  const m: GeotiffWriterMetadata = {};
  if (geo?.modelTransformation) m.ModelTransformation = geo.modelTransformation;
  else {
    // Without any transform the writer would invent a whole-globe WGS 84 one; an identity pixel
    // grid with no CRS key is what a raster without georeferencing honestly has.
    m.ModelPixelScale = geo?.modelPixelScale ?? [1, 1, 0];
    m.ModelTiepoint = geo?.modelTiepoint ?? [0, 0, 0, 0, 0, 0];
  }
  m.GeoKeyDirectory = geo?.geoKeyDirectory ?? [1, 1, 0, 0];
  if (geo?.geoAsciiParams !== undefined) m.GeoAsciiParams = geo.geoAsciiParams;
  if (geo?.geoDoubleParams !== undefined) m.GeoDoubleParams = geo.geoDoubleParams;
  // The writer adds a default CRS key unless one of these is present; ours are already in the copied
  // GeoKeyDirectory, so an own-but-undefined property stops it without writing anything.
  m.GeographicTypeGeoKey = undefined;
  return m;
}

export interface EncodeOptions {
  width: number;
  height: number;
  geo: GeoReference | null;
  noData: number | null;
}

/**
 * Encodes pixel-interleaved samples (one typed array; bands = length / (width × height)) as an
 * uncompressed, single-strip GeoTIFF with the given georeferencing and no-data value.
 */
export function encodeGeoTiff(samples: TypedArray, opts: EncodeOptions): ArrayBuffer {
  const { width, height } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new InflowError(`encodeGeoTiff: width and height must be positive integers, got ${width}×${height}`);
  if (samples.length === 0 || samples.length % (width * height) !== 0)
    throw new InflowError(`encodeGeoTiff: ${samples.length} samples do not fill whole ${width}×${height} bands`);
  const meta: GeotiffWriterMetadata = { width, height, ...geoMetadata(opts.geo) };
  if (opts.noData !== null) meta.GDAL_NODATA = `${opts.noData}`;
  return writeArrayBuffer(samples, meta);
}

/** Label value written where the source had no data (labels themselves are 0…254). */
export const LABEL_NODATA = 255;

/**
 * Writes a uint8 label map with the georeferencing of the raster it was computed from. Pixels the
 * source marked as no-data must already hold LABEL_NODATA; the file states that value as its
 * no-data, since the source's own value (e.g. −9999) may not fit in a byte.
 */
export async function writeLabelMap(file: string, labels: Uint8Array, width: number, height: number, geo: GeoReference | null): Promise<void> {
  if (labels.length !== width * height)
    throw new InflowError(`${file}: ${labels.length} labels do not fill a ${width}×${height} map`);
  await writeFile(file, new Uint8Array(encodeGeoTiff(labels, { width, height, geo, noData: LABEL_NODATA })));
}

/**
 * Writes a band-major multi-band raster (uint8/uint16/float32/float64; geotiff 3.0.5's writer stores
 * signed integers wrongly, so they are not offered) as an uncompressed GeoTIFF.
 */
export async function writeRaster(file: string, bandMajor: Uint8Array | Uint16Array | Float32Array | Float64Array, width: number, height: number, geo: GeoReference | null, noData: number | null): Promise<void> {
  const plane = width * height, bands = bandMajor.length / plane;
  if (!Number.isInteger(bands) || bands < 1) throw new InflowError(`${file}: ${bandMajor.length} values do not fill whole ${width}×${height} bands`);
  // geotiff's writer takes pixel-interleaved samples.
  const chunky = new (bandMajor.constructor as new (n: number) => typeof bandMajor)(bandMajor.length);
  for (let b = 0; b < bands; b++) for (let p = 0; p < plane; p++) chunky[p * bands + b] = bandMajor[b * plane + p]!;
  await writeFile(file, new Uint8Array(encodeGeoTiff(chunky, { width, height, geo, noData })));
}

/**
 * Georeferencing of a north-up grid in a projected CRS given by its EPSG code: the GeoKeys a GIS
 * needs (model type projected, pixels as areas, the CRS) plus pixel scale and tiepoint.
 */
export function projectedGeo(epsg: number, origin: [number, number], pixel: number): GeoReference {
  if (!Number.isInteger(epsg) || epsg < 1 || epsg > 32766) throw new InflowError(`projectedGeo: EPSG code must be an integer in 1…32766, got ${String(epsg)}`);
  if (!(pixel > 0)) throw new InflowError(`projectedGeo: pixel size must be positive, got ${String(pixel)}`);
  // GeoKeyDirectory: header (version 1.1.0, 3 keys), then (key, location 0 = inline SHORT, count 1, value).
  const geoKeyDirectory = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg];
  return {
    origin: [origin[0], origin[1]], pixelSize: [pixel, -pixel], epsg,
    geoKeys: { GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, ProjectedCSTypeGeoKey: epsg },
    modelPixelScale: [pixel, pixel, 0], modelTiepoint: [0, 0, 0, origin[0], origin[1], 0], geoKeyDirectory,
  };
}
