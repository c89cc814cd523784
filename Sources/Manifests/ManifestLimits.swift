/// The sizes a manifest may have before promobot refuses to read or edit it.
///
/// `set-image` runs in every CI pipeline on files anyone can commit, and the promotion engine edits the
/// same files on every cycle: a huge file, an alias bomb or absurd nesting must be refused quickly, with a
/// located message, instead of costing minutes or gigabytes. Real manifests are far below every limit
/// (a large Helm values file is ~100 KB). Documented in README.md ("Limits"). Pure constants; thread-safe.
public enum ManifestLimits {
    /// The largest manifest read or edited, in bytes: 4 MiB. Below it, memory stays a small multiple of
    /// the file size (the events of the original and the edited text, and the composed trees).
    public static let maxFileBytes = 4 * 1024 * 1024
    /// The deepest nesting of collections, counted as written and after expanding aliases: 256 levels
    /// (CRDs nest ~30 deep). Keeps every recursive walk of the tree shallow.
    public static let maxNesting = 256
    /// How many nodes aliases may add when expanded, per file: 1,000,000. An alias to a collection stands
    /// for all of its nodes; nine levels of ten aliases each would stand for 10^9 ("billion laughs").
    public static let maxAliasExpansion = 1_000_000
}
