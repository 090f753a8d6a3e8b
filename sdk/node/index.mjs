import cjs from './lib/index.js';

export const {
  createClient, Client, Cloudimg, canonicalTransform, TransformError, VERSION,
  CloudimgError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError,
  ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError, RateLimitError, ServerError,
  ServiceUnavailableError, TimeoutError, ConnectionError,
} = cjs;
export default cjs;
