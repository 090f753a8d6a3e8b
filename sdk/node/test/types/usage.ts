// Compiled with tsc --strict by test/snippets.test.js: the public types in use.
import {
  createClient, Client, CloudimgError, NotFoundError, RateLimitError, TransformError,
  type Asset, type AssetPage, type Transform,
} from 'cloudimg';

async function main(): Promise<void> {
  const cli: Client = createClient({ baseUrl: 'http://127.0.0.1:1', keyId: 'ck_x', keySecret: 'cs_x', timeout: 5000 });
  const t: Transform = { w: 400, h: 400, c: 'fill', f: 'webp', q: 80, dpr: 1.5, gr: true, bl: 0.3, r: -90, bg: 'ffffff' };
  const url: string = cli.urlFor('photo', t);
  const versioned: string = cli.urlFor('photo', 'w_200', { version: 3 });
  void versioned;
  const asset: Asset = await cli.upload(Buffer.from([1, 2, 3]), { tags: ['a', 'b'], folder: 'f', visibility: 'private', overwrite: true });
  const w: number = asset.width;
  const signed: string = await cli.signedUrl(asset.public_id, { transform: 'w_200', ttl_seconds: 60 });
  const page: AssetPage = await cli.listAssets({ folder_prefix: 'f', tags: ['a'], limit: 10, cursor: null });
  const next: string | null = page.next_cursor;
  for await (const a of cli.assets({ folder: 'f' })) {
    const id: string = a.public_id;
    void id;
  }
  await cli.updateAsset(asset.public_id, { tags: 'archived', visibility: 'public' });
  await cli.deleteAsset(asset.public_id);
  const u = await cli.usage();
  const bytes: number = u.storage_bytes;
  try {
    await cli.getAsset('nope');
  } catch (e) {
    if (e instanceof NotFoundError) {
      const s: number | undefined = e.status;
      const c: string | undefined = e.code;
      const r: string | undefined = e.requestId;
      void [s, c, r];
    } else if (e instanceof RateLimitError) {
      const ra: number | undefined = e.retryAfter;
      void ra;
    } else if (e instanceof TransformError) {
      const k: string = e.key;
      void k;
    } else if (e instanceof CloudimgError) {
      throw e;
    }
  }
  void [url, w, signed, next, bytes];
}
void main;
