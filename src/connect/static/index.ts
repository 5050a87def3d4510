/**
 * The connect pages' static assets, read once at startup, each under a content-hashed
 * path so it can be cached for a year (`Cache-Control: public, max-age=31536000, immutable`).
 *
 * The lead serves them with, for example:
 *   for (const asset of staticAssets()) app.get(asset.path, (_req, reply) =>
 *     reply.header('content-type', asset.contentType).header('cache-control', asset.cacheControl).send(asset.body));
 * and the views link them through `assetUrl('connect.css')`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetDirectory } from '../source-dir.js';

export const STATIC_PREFIX = '/connect/static/';

export type AssetName = 'connect.css' | 'connect.js' | 'favicon.svg';

export interface StaticAsset {
  name: AssetName;
  /** Absolute URL path, e.g. `/connect/static/connect.3f2a9c1e.css`. */
  path: string;
  contentType: string;
  body: Buffer;
  /** Strong ETag (quoted). */
  etag: string;
  cacheControl: string;
}

const TYPES: Record<AssetName, string> = {
  'connect.css': 'text/css; charset=utf-8',
  'connect.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

function load(): ReadonlyMap<AssetName, StaticAsset> {
  const dir = assetDirectory(import.meta.url, './', 'connect.css');
  const out = new Map<AssetName, StaticAsset>();
  for (const name of Object.keys(TYPES) as AssetName[]) {
    const body = readFileSync(join(dir, name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const dot = name.lastIndexOf('.');
    out.set(name, {
      name,
      path: `${STATIC_PREFIX}${name.slice(0, dot)}.${hash}${name.slice(dot)}`,
      contentType: TYPES[name],
      body,
      etag: `"${hash}"`,
      cacheControl: 'public, max-age=31536000, immutable',
    });
  }
  return out;
}

const ASSETS = load();

/** Every static asset with its hashed path, content type and body. */
export function staticAssets(): StaticAsset[] {
  return [...ASSETS.values()];
}

/** The hashed URL path of an asset, for links in the pages. */
export function assetUrl(name: AssetName): string {
  return (ASSETS.get(name) as StaticAsset).path;
}
