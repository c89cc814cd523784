import Manifests
import Policies

/// What the engine and `set-image --resolve` need from a registry client (a test double can stand in).
public protocol ImageRegistry: Sendable {
    /// What the registry says about `image` at `version`; never throws (see ``RegistryLookup``).
    func lookup(image: String, version: ImageVersion) async -> RegistryLookup
}

extension ImageRegistry {
    /// Lookups for every image of `versions`, in `order` (a policy's image order).
    public func lookups(_ versions: ImageVersions, order: [String]) async -> [RegistryLookup] {
        var result: [RegistryLookup] = []
        for (image, version) in versions.ordered(by: order) { result.append(await lookup(image: image, version: version)) }
        return result
    }
}
