/// Finds image references in composed YAML: any `image:` key whose scalar value is a reference, kustomize
/// `images:` entries and Helm `image: {registry, repository, tag, digest}` blocks. Pure.
///
/// The rules, in one place (the README's "Where images are found" says the same for users):
/// - **Versions that are not there.** A `tag`, `newTag` or `digest` whose value is a YAML null (`null`, `~`,
///   `Null`, `NULL`, nothing after the colon, `!!null`) or the empty string is absent: it gives no version and
///   pins nothing, so a tag can be set next to `digest: null`. Any other `digest` value pins the image: a
///   tag-only update for a different tag is refused (``ManifestError/digestPinned(path:line:column:image:)``),
///   since the digest would win over the new tag; an update with a digest sets both.
/// - **Kustomize renames.** The image an `images:` entry runs is its `newName` when that is set (not null,
///   not empty), else its `name`; the entry belongs to that image only. So `newTag`/`digest` of
///   `{name: app, newName: registry.example.com/new-app}` are set for `registry.example.com/new-app` and
///   never for `app` (that would change the version of an image `app` no longer runs); an update for `app`
///   is told so in a notice (``ImageSite/renamed``). A `name` entry without `newName` is found by `name`.
/// - **Block scalars.** An `image:` written as a block scalar (`|`, `|-`, `>`, `>-`, ...) whose content is the
///   reference alone on one line is that reference, and is edited on that line. One whose content spans
///   several lines (or holds more than the reference) is found, so an update for it is refused naming
///   its line, but it is never read as a version (``ImageSite/Layout/unsupported(event:)``). The same holds
///   for a `tag`/`newTag`/`digest` written as a block scalar.
enum ImageLocator {
    static func sites(in tree: YAMLTree, path: String) -> [ImageSite] {
        var sites: [ImageSite] = []
        var seen = Set<Int>()
        let kustomization = isKustomizationPath(path)
        for document in tree.documents {
            if case .mapping(_, let pairs) = document, kustomization || looksLikeKustomization(tree, pairs) {
                if case .sequence(_, let entries)? = tree.value("images", in: pairs)?.resolved {
                    for entry in entries {
                        if let site = kustomizeSite(tree, entry), seen.insert(entry.eventIndex).inserted {
                            sites.append(site)
                        }
                    }
                }
            }
            walk(tree, document, &sites, &seen)
        }
        return sites.sorted { $0.reportEvent < $1.reportEvent }
    }

    private static func walk(_ tree: YAMLTree, _ node: YAMLNode, _ sites: inout [ImageSite], _ seen: inout Set<Int>) {
        switch node {
        case .mapping(_, let pairs):
            for pair in pairs {
                if tree.string(pair.key) == "image" {
                    switch pair.value.resolved {
                    case .scalar(let index)?:
                        if var site = scalarSite(tree, index), seen.insert(pair.value.eventIndex).inserted {
                            site.uses = [index: pair.value.eventIndex]
                            sites.append(site)
                        }
                    case .mapping(_, let inner)?:
                        if let site = helmSite(tree, inner), seen.insert(pair.value.eventIndex).inserted { sites.append(site) }
                    default:
                        break
                    }
                }
                if case .alias = pair.value { continue }
                walk(tree, pair.value, &sites, &seen)
            }
        case .sequence(_, let items):
            for item in items {
                if case .alias = item { continue }
                walk(tree, item, &sites, &seen)
            }
        case .scalar, .alias:
            break
        }
    }

    private static func scalarSite(_ tree: YAMLTree, _ index: Int) -> ImageSite? {
        let event = tree.events[index]
        guard event.tag == nil || event.tag == "tag:yaml.org,2002:str", let value = text(tree, index) else { return nil }
        if isBlock(event), !isOneLine(value) {
            // Not one reference: named (when a name can be made out) so an update for it is refused, not lost.
            // The first word (`app:1.0` of `app:1.0 --pull`), else the lines run together (`app:` + `1.0`).
            let first = value.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
            let joined = String(value.filter { !$0.isWhitespace })
            guard let parts = (try? ImageReference.split(first)) ?? (try? ImageReference.split(joined)) else { return nil }
            return ImageSite(layout: .unsupported(event: index), reference: parts.reference,
                             writtenName: String(parts.writtenName), reportEvent: index)
        }
        guard let parts = try? ImageReference.split(value) else { return nil }
        return ImageSite(layout: .scalar(event: index), reference: parts.reference,
                         writtenName: String(parts.writtenName), reportEvent: index)
    }

    /// The entry's site: the `newName` image when `newName` is set, else the `name` image (see the rules above).
    private static func kustomizeSite(_ tree: YAMLTree, _ entry: YAMLNode) -> ImageSite? {
        guard case .mapping(let start, let pairs)? = entry.resolved,
              let nameKey = tree.keyNode("name", in: pairs),
              let nameValue = tree.scalarIndex(tree.value("name", in: pairs)),
              let name = text(tree, nameValue) else { return nil }
        let newNameNode = tree.value("newName", in: pairs)
        let newName = tree.scalarIndex(newNameNode).flatMap { text(tree, $0) }
        let written = newName ?? name
        guard var reference = try? ImageReference.split(written).reference else { return nil }
        let tagEvent = tree.scalarIndex(tree.value("newTag", in: pairs))
        let digestEvent = tree.scalarIndex(tree.value("digest", in: pairs))
        if let unreadable = unreadableVersion(tree, tagEvent, digestEvent) {
            return ImageSite(layout: .unsupported(event: unreadable), reference: reference, writtenName: written,
                             reportEvent: unreadable)
        }
        reference.tag = tagEvent.flatMap { text(tree, $0) }
        reference.digest = digestEvent.flatMap { text(tree, $0) }
        var insertKey = nameKey
        var insertAfter = nameValue
        if let newNameNode, let newNameValue = tree.scalarIndex(newNameNode),
           let newNameKey = tree.keyNode("newName", in: pairs) {
            insertKey = newNameKey
            insertAfter = newNameValue
        }
        guard case .scalar(let insertKeyIndex) = insertKey else { return nil }
        let insertAfterNode = newNameNode.flatMap { tree.scalarIndex($0) == nil ? nil : $0 } ?? tree.value("name", in: pairs)
        var layout = ImageSite.SplitLayout(tagKey: "newTag", tagEvent: tagEvent, digestEvent: digestEvent,
                                           insertAfter: insertAfter, insertKey: insertKeyIndex,
                                           flow: tree.events[start].style == .flow)
        if case .alias? = insertAfterNode { layout.insertAfterAlias = true }
        var site = ImageSite(layout: .split(layout), reference: reference, writtenName: written,
                             reportEvent: tagEvent ?? digestEvent ?? insertAfter)
        site.uses = uses(tree, pairs, ["newTag": tagEvent, "digest": digestEvent])
        if newName != nil, let renamed = try? ImageReference.split(name), renamed.reference.name != reference.name {
            site.renamed = ImageSite.Rename(name: renamed.reference.name, writtenName: String(renamed.writtenName),
                                            event: nameValue)
        }
        return site
    }

    private static func helmSite(_ tree: YAMLTree, _ pairs: [(key: YAMLNode, value: YAMLNode)]) -> ImageSite? {
        guard let repositoryKeyNode = tree.keyNode("repository", in: pairs),
              case .scalar(let repositoryKey) = repositoryKeyNode,
              let repositoryValue = tree.scalarIndex(tree.value("repository", in: pairs)) else { return nil }
        guard let repository = text(tree, repositoryValue) else { return nil }
        var written = repository
        if let registry = tree.scalarIndex(tree.value("registry", in: pairs)).flatMap({ text(tree, $0) }) {
            written = registry + "/" + repository
        }
        guard var reference = try? ImageReference.split(written).reference, reference.tag == nil,
              reference.digest == nil else { return nil }
        let tagEvent = tree.scalarIndex(tree.value("tag", in: pairs))
        let digestEvent = tree.scalarIndex(tree.value("digest", in: pairs))
        if let unreadable = unreadableVersion(tree, tagEvent, digestEvent) {
            return ImageSite(layout: .unsupported(event: unreadable), reference: reference, writtenName: written,
                             reportEvent: unreadable)
        }
        reference.tag = tagEvent.flatMap { text(tree, $0) }
        reference.digest = digestEvent.flatMap { text(tree, $0) }
        // A block mapping cannot sit inside a flow collection, so a key in flow context means a flow mapping.
        let flow = tree.inFlow[repositoryKey]
        var layout = ImageSite.SplitLayout(tagKey: "tag", tagEvent: tagEvent, digestEvent: digestEvent,
                                           insertAfter: repositoryValue, insertKey: repositoryKey, flow: flow)
        if case .alias? = tree.value("repository", in: pairs) { layout.insertAfterAlias = true }
        var site = ImageSite(layout: .split(layout), reference: reference, writtenName: written,
                             reportEvent: tagEvent ?? digestEvent ?? repositoryValue)
        site.uses = uses(tree, pairs, ["tag": tagEvent, "digest": digestEvent])
        return site
    }

    // MARK: - Values

    /// A scalar's text as a name or version: nil when it is a YAML null or empty; a block scalar without the
    /// line breaks its chomping keeps at the end (`|` keeps one).
    static func text(_ tree: YAMLTree, _ index: Int) -> String? {
        let event = tree.events[index]
        guard !isNull(event) else { return nil }
        let value = isBlock(event) ? trailingBreaksRemoved(event.value) : event.value
        return value.isEmpty ? nil : value
    }

    /// Whether a scalar reads as null: tagged `!!null`, or untagged and plain `null`/`Null`/`NULL`/`~`/nothing.
    static func isNull(_ event: YAMLEvent) -> Bool {
        if let tag = event.tag { return tag == "tag:yaml.org,2002:null" }
        return event.style == .plain && ["", "~", "null", "Null", "NULL"].contains(event.value)
    }

    static func isBlock(_ event: YAMLEvent) -> Bool { event.style == .literal || event.style == .folded }

    /// Whether a block scalar's text (trailing breaks removed) is one line holding one token: a folded
    /// scalar joins its lines with a space and a literal one keeps the break, so any blank means more.
    static func isOneLine(_ text: String) -> Bool { !text.contains { $0.isWhitespace } }

    /// `value` without its trailing line breaks (libyaml gives every break in a value as LF).
    static func trailingBreaksRemoved(_ value: String) -> String {
        var text = Substring(value)
        while text.last == "\n" { text = text.dropLast() }
        return String(text)
    }

    /// The first version scalar written as a block scalar over several lines, if any: it is not one value.
    private static func unreadableVersion(_ tree: YAMLTree, _ events: Int?...) -> Int? {
        events.compactMap { $0 }.first { index in
            isBlock(tree.events[index]) && !isOneLine(trailingBreaksRemoved(tree.events[index].value))
        }
    }

    /// For each version key present: its resolved scalar -> the node it is reached through in this mapping.
    private static func uses(_ tree: YAMLTree, _ pairs: [(key: YAMLNode, value: YAMLNode)],
                             _ keys: [String: Int?]) -> [Int: Int] {
        var uses: [Int: Int] = [:]
        for (key, event) in keys {
            if let event, let node = tree.value(key, in: pairs) { uses[event] = node.eventIndex }
        }
        return uses
    }

    private static func isKustomizationPath(_ path: String) -> Bool {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return ["kustomization.yaml", "kustomization.yml", "Kustomization"].contains(base)
    }

    private static func looksLikeKustomization(_ tree: YAMLTree, _ pairs: [(key: YAMLNode, value: YAMLNode)]) -> Bool {
        if tree.string(tree.value("kind", in: pairs)) == "Kustomization" { return true }
        if let apiVersion = tree.string(tree.value("apiVersion", in: pairs)), apiVersion.hasPrefix("kustomize.config.k8s.io") {
            return true
        }
        return false
    }
}

