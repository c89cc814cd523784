import Foundation
import Policies

/// One shard of N: which part of the policies this process reconciles (`--shard I/N`).
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// 0-based, below `count` (a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`).
    public var index: Int
    public var count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// `I/N`, or `N` alone with the index from `JOB_COMPLETION_INDEX` (so an Indexed Job needs no per-pod
    /// arguments). Nil, with the reason, when malformed.
    public static func parse(_ text: String, environment: [String: String]) -> Result<Shard, ShardError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let indexText: String?
        let countText: String
        switch parts.count {
        case 1: (indexText, countText) = (environment["JOB_COMPLETION_INDEX"], parts[0])
        case 2: (indexText, countText) = (parts[0], parts[1])
        default: return .failure(ShardError("'\(text)' is not I/N (e.g. 0/4) or N"))
        }
        guard let count = Int(countText), count >= 1, count <= 10_000 else {
            return .failure(ShardError("'\(text)': the shard count must be a number from 1 to 10000"))
        }
        guard let indexText else {
            return .failure(ShardError("'--shard \(text)' takes the index from JOB_COMPLETION_INDEX, which is not set (use I/N)"))
        }
        guard let index = Int(indexText), let shard = Shard(index: index, count: count) else {
            return .failure(ShardError("'\(indexText)' is not a shard index from 0 to \(count - 1)"))
        }
        return .success(shard)
    }

    public var description: String { "\(index)/\(count)" }
}

/// Why `--shard` cannot be used as given (exit 2).
public struct ShardError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A stable partition of the policies by repository.
///
/// Policies that share a repository form one group (the engine's lanes), and a whole group goes to one
/// shard, so the "one lane per repository" guarantee holds across shards: no two processes ever write the
/// same repository. A group is placed by rendezvous (highest random weight) hashing of its first repository
/// name with each shard index: stable across processes and releases (FNV-1a, not Swift's seeded `Hasher`),
/// and going from N to N+1 shards moves only the groups the new shard wins, about 1/(N+1) of them.
public enum Sharding {
    /// The policies `shard` owns, in their original order.
    public static func owned(_ policies: [Policy], by shard: Shard) -> [Policy] {
        guard shard.count > 1 else { return policies }
        var owned = Set<Int>()
        for lane in PromotionEngine.lanes(of: policies) {
            let key = lane.flatMap { policies[$0].stages.map(\.repository) }.min() ?? ""
            if self.shard(of: key, count: shard.count) == shard.index { owned.formUnion(lane) }
        }
        return policies.indices.filter(owned.contains).map { policies[$0] }
    }

    /// The shard a group keyed by `repository` lands in.
    public static func shard(of repository: String, count: Int) -> Int {
        var best = 0
        var bestWeight: UInt64 = 0
        for index in 0..<count {
            let weight = fnv1a("\(repository)#\(index)")
            if index == 0 || weight > bestWeight { (best, bestWeight) = (index, weight) }
        }
        return best
    }

    /// 64-bit FNV-1a: tiny, stable everywhere, well spread for short keys; a final avalanche step (from
    /// MurmurHash3's fmix64) evens out keys that differ only in their last characters.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
