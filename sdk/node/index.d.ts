// Type definitions for cloudimg (the img-cloud Node.js SDK).
/// <reference types="node" />
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export declare const VERSION: string;

export type CropMode = 'fit' | 'inside' | 'outside' | 'fill' | 'cover' | 'contain' | 'thumb';
export type OutputFormat = 'auto' | 'jpg' | 'jpeg' | 'png' | 'webp' | 'avif' | 'gif';
export type Visibility = 'public' | 'private';

/** Transform object; the SDK prints it as the server's canonical string (w,h,c,q,f,dpr,gr,bl,r,bg). */
export interface Transform {
  /** Width, 1..4000. */
  w?: number | string;
  /** Height, 1..4000. */
  h?: number | string;
  c?: CropMode;
  /** Quality, 1..100. */
  q?: number | string;
  f?: OutputFormat;
  /** Device pixel ratio, 1..3, at most 2 decimals. */
  dpr?: number | string;
  /** Greyscale. */
  gr?: boolean | 1 | '1';
  /** Blur sigma, 0.3..25, at most 2 decimals. */
  bl?: number | string;
  /** Rotation in degrees, -360..360. */
  r?: number | string;
  /** Background, 6 hex digits like 'ffffff'. */
  bg?: string;
}

export interface ClientOptions {
  /** Server base URL; falls back to CLOUDIMG_BASE_URL. */
  baseUrl?: string;
  /** API key id (ck_...); falls back to CLOUDIMG_KEY_ID. */
  keyId?: string;
  /** API key secret (cs_...); falls back to CLOUDIMG_KEY_SECRET. */
  keySecret?: string;
  /** Per-request timeout in ms (default 60000; 0 disables). */
  timeout?: number;
  /** Retries of idempotent calls on 429/503 and connection failures (default 2). */
  maxRetries?: number;
  /** First backoff delay in ms when the server sent no Retry-After (default 500). */
  retryBaseDelay?: number;
  /** Longest wait in ms; a larger Retry-After fails at once instead (default 30000). */
  maxRetryDelay?: number;
  /** Also retry uploads from a path or buffer (default false: uploads are not idempotent). */
  retryUploads?: boolean;
  /** Called before each retry. */
  onRetry?: (info: { attempt: number; delay: number; error: CloudimgError; method: string; path: string }) => void;
  /** A fetch implementation (default: global fetch). */
  fetch?: typeof fetch;
}

export interface Asset {
  public_id: string;
  url: string;
  /** `/v1/image/v<version>/<public_id>`: immutable, changes on overwrite. */
  versioned_url: string;
  folder: string;
  tags: string[];
  visibility: Visibility | string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  version: number;
  created_at: string;
  updated_at: string;
  owner: number;
  [field: string]: unknown;
}

export type UploadSource =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | Blob
  | WebReadableStream<Uint8Array>
  | NodeJS.ReadableStream
  | AsyncIterable<Uint8Array | string>;

export interface UploadOptions {
  public_id?: string;
  folder?: string;
  /** An array or a comma-separated string. */
  tags?: string[] | string;
  visibility?: Visibility;
  /** Replace an existing public_id (else 409). */
  overwrite?: boolean;
  /** File name sent with the part (default: the path's base name, else 'image'). */
  filename?: string;
  /** Retry on 429/503 (only for a path or buffer); overrides the client's retryUploads. */
  retry?: boolean;
  /** Timeout in ms for this upload. */
  timeout?: number;
}

export interface SignOptions {
  transform?: Transform | string;
  /** 1..604800, default 3600. */
  ttl_seconds?: number;
}

export interface SignResult {
  url: string;
  expires_at: string;
  [field: string]: unknown;
}

export interface UpdateAssetOptions {
  tags?: string[] | string;
  folder?: string;
  visibility?: Visibility;
}

export interface ListAssetsOptions {
  folder?: string;
  folder_prefix?: string;
  tags?: string[] | string;
  prefix?: string;
  visibility?: Visibility;
  limit?: number;
  cursor?: string | null;
}

export interface AssetPage {
  assets: Asset[];
  next_cursor: string | null;
}

export interface Usage {
  storage_bytes: number;
  asset_count: number;
  bandwidth_bytes: number;
  requests: number;
  [field: string]: unknown;
}

export interface UrlOptions {
  /** The asset's `version` (a positive integer); omitted or null gives the unversioned URL. */
  version?: number | null;
}

export declare class Client {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  upload(source: UploadSource, options?: UploadOptions): Promise<Asset>;
  /** `options.version`: the asset's version, for the immutable versioned URL (`/v1/image/<t>/v<version>/<id>`); required (TypeError) for an id whose first segment reads as a version, like `v2/photo`. */
  urlFor(publicId: string, transform?: Transform | string | null, options?: UrlOptions): string;
  signedUrl(publicId: string, options?: SignOptions): Promise<string>;
  signUrl(publicId: string, options?: SignOptions): Promise<SignResult>;
  getAsset(publicId: string): Promise<Asset>;
  updateAsset(publicId: string, changes: UpdateAssetOptions): Promise<Asset>;
  deleteAsset(publicId: string): Promise<void>;
  listAssets(options?: ListAssetsOptions): Promise<AssetPage>;
  assets(options?: ListAssetsOptions): AsyncGenerator<Asset, void, undefined>;
  usage(options?: { all?: boolean }): Promise<Usage & Record<string, unknown>>;
}
export { Client as Cloudimg };

export declare function createClient(options?: ClientOptions): Client;

/** The canonical transform string for an object or a string; throws TransformError. */
export declare function canonicalTransform(transform?: Transform | string | null): string;

export declare class TransformError extends Error {
  /** The offending key ('' for an empty item). */
  readonly key: string;
}

export interface CloudimgErrorOptions {
  status?: number;
  code?: string;
  requestId?: string;
  retryAfter?: number;
  body?: unknown;
  cause?: unknown;
}

export declare class CloudimgError extends Error {
  constructor(message: string, options?: CloudimgErrorOptions);
  /** HTTP status; undefined for timeouts and connection failures. */
  readonly status: number | undefined;
  /** The server's stable error code, when sent. */
  readonly code: string | undefined;
  /** The server's X-Request-Id. */
  readonly requestId: string | undefined;
  /** Seconds from Retry-After (429/503). */
  readonly retryAfter: number | undefined;
  readonly body: unknown;
}
export declare class BadRequestError extends CloudimgError {}
export declare class AuthenticationError extends CloudimgError {}
export declare class PermissionDeniedError extends CloudimgError {}
export declare class NotFoundError extends CloudimgError {}
export declare class ConflictError extends CloudimgError {}
export declare class PayloadTooLargeError extends CloudimgError {}
export declare class UnsupportedMediaTypeError extends CloudimgError {}
export declare class RateLimitError extends CloudimgError {}
export declare class ServerError extends CloudimgError {}
export declare class ServiceUnavailableError extends ServerError {}
export declare class TimeoutError extends CloudimgError {}
export declare class ConnectionError extends CloudimgError {}

declare const cloudimg: {
  createClient: typeof createClient;
  Client: typeof Client;
  Cloudimg: typeof Client;
  canonicalTransform: typeof canonicalTransform;
  TransformError: typeof TransformError;
  VERSION: string;
  CloudimgError: typeof CloudimgError;
  BadRequestError: typeof BadRequestError;
  AuthenticationError: typeof AuthenticationError;
  PermissionDeniedError: typeof PermissionDeniedError;
  NotFoundError: typeof NotFoundError;
  ConflictError: typeof ConflictError;
  PayloadTooLargeError: typeof PayloadTooLargeError;
  UnsupportedMediaTypeError: typeof UnsupportedMediaTypeError;
  RateLimitError: typeof RateLimitError;
  ServerError: typeof ServerError;
  ServiceUnavailableError: typeof ServiceUnavailableError;
  TimeoutError: typeof TimeoutError;
  ConnectionError: typeof ConnectionError;
};
export default cloudimg;
