/// Finds image references in composed YAML: any `image:` key whose scalar value is a reference, kustomize
/// `images:` entries and Helm `image: {registry, repository, tag}` blocks. Pure.
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
        guard event.tag == nil || event.tag == "tag:yaml.org,2002:str",
              let parts = try? ImageReference.split(event.value) else { return nil }
        return ImageSite(layout: .scalar(event: index), reference: parts.reference,
                         writtenName: String(parts.writtenName), reportEvent: index)
    }

    private static func kustomizeSite(_ tree: YAMLTree, _ entry: YAMLNode) -> ImageSite? {
        guard case .mapping(let start, let pairs)? = entry.resolved,
              let nameKey = tree.keyNode("name", in: pairs),
              let nameValue = tree.scalarIndex(tree.value("name", in: pairs)) else { return nil }
        let newNameNode = tree.value("newName", in: pairs)
        let written = tree.string(newNameNode) ?? tree.events[nameValue].value
        guard var reference = try? ImageReference.split(written).reference else { return nil }
        let tagEvent = tree.scalarIndex(tree.value("newTag", in: pairs))
        let digestEvent = tree.scalarIndex(tree.value("digest", in: pairs))
        reference.tag = tagEvent.map { tree.events[$0].value }.flatMap { $0.isEmpty ? nil : $0 }
        reference.digest = digestEvent.map { tree.events[$0].value }.flatMap { $0.isEmpty ? nil : $0 }
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
        return site
    }

    private static func helmSite(_ tree: YAMLTree, _ pairs: [(key: YAMLNode, value: YAMLNode)]) -> ImageSite? {
        guard let repositoryKeyNode = tree.keyNode("repository", in: pairs),
              case .scalar(let repositoryKey) = repositoryKeyNode,
              let repositoryValue = tree.scalarIndex(tree.value("repository", in: pairs)) else { return nil }
        let repository = tree.events[repositoryValue].value
        var written = repository
        if let registry = tree.string(tree.value("registry", in: pairs)), !registry.isEmpty {
            written = registry + "/" + repository
        }
        guard var reference = try? ImageReference.split(written).reference, reference.tag == nil,
              reference.digest == nil else { return nil }
        let tagEvent = tree.scalarIndex(tree.value("tag", in: pairs))
        let digestEvent = tree.scalarIndex(tree.value("digest", in: pairs))
        reference.tag = tagEvent.map { tree.events[$0].value }.flatMap { $0.isEmpty ? nil : $0 }
        reference.digest = digestEvent.map { tree.events[$0].value }.flatMap { $0.isEmpty ? nil : $0 }
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
