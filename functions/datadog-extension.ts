/**
 * The Datadog Lambda extension the stack pins, and the limits of its DogStatsD server, in one module with no
 * side effects (infra/, the runtime and the local listener import it; `cdk synth` loads nothing else from here).
 *
 * The extension (DataDog/datadog-lambda-extension, `bottlecap`) takes its DogStatsD code from the `dogstatsd`
 * crate of DataDog/serverless-components, at the revision its `bottlecap/Cargo.toml` names for each release
 * tag `v<layer>`. Rule: raising the pinned layer means adding its revision below and porting the local parser
 * (functions/local/dogstatsd-parser.ts) to it; a test fails while the two disagree.
 */

/** The Datadog Lambda extension layer version (`Datadog-Extension-ARM`) the stack deploys. */
export const DATADOG_EXTENSION_LAYER_VERSION = 99;

/** The serverless-components revision of the `dogstatsd` crate in each extension layer (`bottlecap/Cargo.toml` at tag `v<layer>`). */
export const DOGSTATSD_REVISION_BY_LAYER: Readonly<Record<number, string>> = {
  96: '28f796bf767fff56caf08153ade5cd80c8e8f705',
  97: '5b68f50f49c9defbfed4d25bd621e2a86405a972',
  98: '8ce37eb029410b7cf30847376772e3af6baa5f5c',
  99: 'd0c7f44191445e20d309734675d5e8b91d2a5d51',
};

/** The DogStatsD revision of a layer; throws a RangeError for a layer the table does not list. */
export function dogstatsdRevisionOf(layer: number): string {
  const revision = DOGSTATSD_REVISION_BY_LAYER[layer];
  if (revision === undefined) {
    throw new RangeError(
      `Datadog extension layer ${layer} is not in DOGSTATSD_REVISION_BY_LAYER: add the serverless-components revision its bottlecap/Cargo.toml pins`,
    );
  }
  return revision;
}

/** The DogStatsD revision the pinned layer runs. */
export const PINNED_DOGSTATSD_REVISION: string = dogstatsdRevisionOf(DATADOG_EXTENSION_LAYER_VERSION);

/**
 * The extension's receive buffer per datagram when `DD_DOGSTATSD_BUFFER_SIZE` is not set (`DEFAULT_BUFFER_SIZE`
 * in `crates/dogstatsd/src/dogstatsd.rs`): a longer datagram is cut at this many bytes.
 */
export const EXTENSION_BUFFER_BYTES = 8192;

/** The most tags a line may carry (`MAX_TAGS` in `crates/dogstatsd/src/constants.rs`); a line with more is dropped. */
export const EXTENSION_MAX_TAGS = 100;

/** How operator-facing text names the extension's DogStatsD code at a revision (`DataDog/serverless-components@d0c7f44 crates/dogstatsd`). */
export function dogstatsdSource(revision: string = PINNED_DOGSTATSD_REVISION): string {
  return `DataDog/serverless-components@${revision.slice(0, 7)} crates/dogstatsd`;
}
