/**
 * The limits the worker's DogStatsD lines keep, in one module with no imports and no side effects, so the
 * stack (`infra/`), the local listener (`functions/local/`) and the worker's metrics client share one
 * definition without loading hot-shots or touching `/proc`.
 *
 * These are OUR rules for what the worker sends. The limits of the Datadog extension that receives them are
 * the extension's own (the local parser states them); ours must stay within the extension's.
 */

/**
 * The largest datagram the worker's client sends (hot-shots' `maxBufferSize`). The stack sets the extension's
 * `DD_DOGSTATSD_BUFFER_SIZE` to this, so every datagram is read whole.
 */
export const MAX_DATAGRAM_BYTES = 8192;

/** At most this many tags on one metric line: global tags plus the record's own (our rule, within the extension's limit). */
export const MAX_TAGS_PER_LINE = 32;

/** The tags a record's metrics add to the global tags: job_type, queue, outcome and, when dead, reason. */
export const RECORD_TAGS_PER_LINE = 4;

/** The most global tags (service, env, version, function name, ...) a client accepts, so every line keeps {@link MAX_TAGS_PER_LINE}. */
export const MAX_GLOBAL_TAGS: number = MAX_TAGS_PER_LINE - RECORD_TAGS_PER_LINE;

/** Tag values are cut to this many characters (Datadog's own limit on a tag is 200 characters). */
export const MAX_TAG_VALUE_LENGTH = 200;
