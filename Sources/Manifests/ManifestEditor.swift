/// Format-preserving image edits on manifest text: Kubernetes objects (any kind, any number of documents),
/// kustomizations and Helm values files.
///
/// The editor parses only to find where image values are, splices the new tag/digest bytes into the
/// original text and leaves every other byte alone (comments, blank lines, key order, indentation, quote
/// style, CRLF, document separators). It then re-parses the result and refuses unless the only difference
/// is the intended values. Pure: no I/O, thread-safe.
public enum ManifestEditor {
    /// Applies `updates` to every matching image in `text`.
    ///
    /// Images that match no update are left alone; an update that matches nothing is not an error here (the
    /// caller decides, see ``apply(_:path:updates:)``). Helm templates (`{{ }}`) that are not YAML come back
    /// unchanged.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: the file's name, used in messages and change records (and to recognise `kustomization.yaml`).
    ///   - updates: the tags/digests to set; at most one per image.
    /// - Returns: the new text (identical when nothing changed) and one record per edited value.
    /// - Throws: ``ManifestError`` (invalid YAML, malformed update, unsupported value, pinned digest, failed
    ///   safety check).
    public static func edit(_ text: String, path: String, updates: [ImageUpdate]) throws(ManifestError)
        -> (text: String, changes: [ImageChange]) {
        let result = try apply(text, path: path, updates: updates)
        return (result.text, result.changes)
    }

    /// Every image reference in `text`, in file order: Kubernetes `image:` values (containers,
    /// initContainers, ephemeralContainers, CRDs), kustomize `images:` entries and Helm `image:` values.
    ///
    /// These are exactly the versions ``edit(_:path:updates:)`` would set, read by the same rules (see
    /// ``ImageLocator``): a kustomize entry is its `newName` image when it has one; a null or empty
    /// `tag`/`digest` is no version; a one-line block scalar is its reference. A value the editor refuses to
    /// rewrite (a block scalar over several lines) is not reported. An alias is reported once, at its
    /// anchor. Templates that are not YAML have no images.
    /// - Throws: ``ManifestError/invalidYAML(path:line:column:problem:)``.
    public static func images(in text: String, path: String) throws(ManifestError) -> [FoundImage] {
        let bytes = try checkedBytes(text, path: path)
        guard case .yaml(let tree) = try parse(bytes, path: path) else { return [] }
        return reported(ImageLocator.sites(in: tree, path: path).filter(\.isReadable)).map { found($0, tree, path) }
    }

    /// The normalised names of every image `text` holds, including those ``images(in:path:)`` leaves out
    /// because the editor refuses to rewrite them: what a file that was refused counts as holding, so the
    /// refusal, not "not found", is what a caller reports.
    /// - Throws: ``ManifestError/invalidYAML(path:line:column:problem:)``.
    package static func imageNames(in text: String, path: String) throws(ManifestError) -> Set<String> {
        let bytes = try checkedBytes(text, path: path)
        guard case .yaml(let tree) = try parse(bytes, path: path) else { return [] }
        return Set(ImageLocator.sites(in: tree, path: path).map(\.reference.name))
    }

    /// ``edit(_:path:updates:)`` with everything a caller may report: the images each update matched
    /// (including those already at the requested version) and notices such as skipped templates.
    /// - Throws: as ``edit(_:path:updates:)``.
    public static func apply(_ text: String, path: String, updates: [ImageUpdate]) throws(ManifestError) -> EditResult {
        try apply(text, path: path, updates: updates, tamper: nil)
    }

    /// `tamper` lets tests corrupt the spliced bytes to prove the safety check catches it.
    static func apply(_ text: String, path: String, updates: [ImageUpdate],
                      tamper: ((inout [UInt8]) -> Void)?) throws(ManifestError) -> EditResult {
        try apply(text, path: path, wanted: try normalize(updates), tamper: tamper)
    }

    /// The edit with already-normalised updates (so a caller editing many files normalises once).
    static func apply(_ text: String, path: String, wanted: [String: Wanted],
                      tamper: ((inout [UInt8]) -> Void)? = nil) throws(ManifestError) -> EditResult {
        let bytes = try checkedBytes(text, path: path)
        let tree: YAMLTree
        switch try parse(bytes, path: path) {
        case .yaml(let parsed):
            tree = parsed
        case .template(let line):
            return EditResult(text: text, changes: [], matched: [],
                              notices: ["\(path): skipped: not YAML (a template: the '{{ }}' actions from line \(line) are what the YAML parser rejects); not changed"])
        }
        var plan = SplicePlan()
        var matched: [FoundImage] = []
        let all = ImageLocator.sites(in: tree, path: path)
        let sites = all.filter { wanted[$0.reference.name] != nil }
        for site in reported(sites.filter(\.isReadable)) { matched.append(found(site, tree, path)) }
        for site in sites { try plan.add(site, wanted[site.reference.name]!, tree, bytes, path) }
        let notices = renameNotices(all, wanted, tree, path)
        guard !plan.splices.isEmpty else {
            return EditResult(text: text, changes: [], matched: matched, notices: notices)
        }
        try plan.checkSharedValues(tree, path)
        var newBytes = plan.applied(to: bytes)
        tamper?(&newBytes)
        try EditVerifier.verify(old: tree, newBytes: newBytes, plan: plan, path: path)
        let changes = zip(plan.records, plan.newLines()).map { record, line in
            ImageChange(path: path, line: line, image: record.image, old: record.old, new: record.new)
        }
        return EditResult(text: String(decoding: newBytes, as: UTF8.self), changes: changes, matched: matched, notices: notices)
    }

    /// One notice per kustomize entry that an update names by its `name` while its `newName` runs another
    /// image: the entry is not edited for the `name` image (see ``ImageLocator``), and the user is told why.
    private static func renameNotices(_ sites: [ImageSite], _ wanted: [String: Wanted], _ tree: YAMLTree,
                                      _ path: String) -> [String] {
        var seen = Set<Int>()
        return sites.compactMap { site in
            guard let renamed = site.renamed, wanted[renamed.name] != nil, seen.insert(renamed.event).inserted else { return nil }
            let line = tree.events[renamed.event].line
            return "\(path):\(line): not edited for \(renamed.writtenName): this kustomize images entry renames it to \(site.writtenName) (newName), the image that runs; to change this entry, set \(site.writtenName)"
        }
    }

    // MARK: - Helpers

    /// What a file turned out to be.
    enum Parsed {
        case yaml(YAMLTree)
        /// A Go/Helm template that is not YAML; `line` is where its first action is.
        case template(line: Int)
    }

    /// The composed file, or `.template` when the file fails to parse *because of* its `{{ }}` actions
    /// (it parses once they are masked, see ``TemplateText``).
    /// - Throws: ``ManifestError/invalidYAML(path:line:column:problem:)`` (also an alias to no anchor),
    ///   ``ManifestError/tooComplex(path:line:column:reason:)`` beyond ``ManifestLimits``.
    static func parse(_ bytes: [UInt8], path: String) throws(ManifestError) -> Parsed {
        let events: [YAMLEvent]
        do {
            events = try YAMLEventParser.parse(bytes)
        } catch {
            if let template = TemplateText.masked(bytes), (try? YAMLEventParser.parse(template.bytes)) != nil {
                return .template(line: template.firstLine)
            }
            // libyaml's own nesting limit (1000) is far above ours; say it in our words.
            if error.problem.contains("Maximum nesting level") {
                throw ManifestError.tooComplex(path: path, line: error.line, column: error.column,
                                               reason: "collections nest deeper than \(ManifestLimits.maxNesting) levels")
            }
            throw ManifestError.invalidYAML(path: path, line: error.line, column: error.column, problem: error.problem)
        }
        do {
            return .yaml(try YAMLTree(events: events))
        } catch {
            if error.isLimit {
                throw ManifestError.tooComplex(path: path, line: error.line, column: error.column, reason: error.problem)
            }
            throw ManifestError.invalidYAML(path: path, line: error.line, column: error.column, problem: error.problem)
        }
    }

    /// The text's bytes, refused above ``ManifestLimits/maxFileBytes`` before any parsing.
    static func checkedBytes(_ text: String, path: String) throws(ManifestError) -> [UInt8] {
        let count = text.utf8.count
        guard count <= ManifestLimits.maxFileBytes else {
            throw ManifestError.tooLarge(path: path, bytes: count, limit: ManifestLimits.maxFileBytes)
        }
        return Array(text.utf8)
    }

    /// One site per reported position: a value reached through several aliases is reported once, at its anchor.
    private static func reported(_ sites: [ImageSite]) -> [ImageSite] {
        var seen = Set<Int>()
        return sites.filter { seen.insert($0.reportEvent).inserted }
    }

    private static func found(_ site: ImageSite, _ tree: YAMLTree, _ path: String) -> FoundImage {
        let event = tree.events[site.reportEvent]
        return FoundImage(path: path, line: event.line, column: event.column, reference: site.reference)
    }

    struct Wanted: Sendable {
        var tag: String?
        var digest: String?
    }

    static func normalize(_ updates: [ImageUpdate]) throws(ManifestError) -> [String: Wanted] {
        var wanted: [String: Wanted] = [:]
        for update in updates {
            let reference: ImageReference
            do { reference = try ImageReference.parse(update.image) } catch {
                throw ManifestError.invalidUpdate(error.description)
            }
            var digest = update.digest
            if let value = digest, value.hasPrefix("@") { digest = String(value.dropFirst()) }
            if let tag = update.tag, !ImageReference.isValidTag(Substring(tag)) {
                throw ManifestError.invalidUpdate(ImageReferenceError(reference: "\(reference.name):\(tag)",
                                                                      reason: .invalidTag(tag)).description)
            }
            if let digest, !ImageReference.isValidDigest(Substring(digest)) {
                throw ManifestError.invalidUpdate(ImageReferenceError(reference: "\(reference.name)@\(digest)",
                                                                      reason: .invalidDigest(digest)).description)
            }
            guard update.tag != nil || digest != nil else {
                throw ManifestError.invalidUpdate("\(update.image): give a tag, a digest or both")
            }
            guard wanted[reference.name] == nil else {
                throw ManifestError.invalidUpdate("two updates for \(reference.name); give one per image")
            }
            wanted[reference.name] = Wanted(tag: update.tag, digest: digest)
        }
        return wanted
    }
}
