/** The geological-mapping library (docs/geomap.md): GeoTIFF rasters, synthetic scenes, reductions, clustering, indices, the pipeline. Node only (GeoTIFF files). */
export * from './geotiff.js';
export * from './pixels.js';
export * from './scene.js';
export * from './pca.js';
export * from './kmeans.js';
export * from './hungarian.js';
export * from './pixel-autoencoder.js';
export * from './train-autoencoder.js';
export * from './geo-model-file.js';
export * from './cluster-indices.js';
export * from './majority-filter.js';
export * from './geomap.js';
export { labelColor, previewPng, renderPreview, type LegendEntry, type Preview, type PreviewOptions } from './preview.js';
export { indexPlotPng, renderIndexPlot, type IndexPlot, type IndexPoint } from './index-plot.js';
