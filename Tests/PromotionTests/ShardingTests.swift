import Foundation
import Policies
import Promotion
import Testing
import TestSupport

/// `--shard I/N`: a stable partition of the policies by repository.
@Suite struct ShardingTests {
    static func policy(_ name: String, repositories: [String]) -> Policy {
        Policy(name: name, sourcePath: "\(name).yaml", images: ["registry.example.com/\(name)/app"],
               stages: repositories.enumerated().map { index, repository in
                   Stage(name: "s\(index)", from: index == 0 ? nil : "s\(index - 1)", repository: repository, branch: "main", paths: ["s\(index)/"])
               })
    }

    /// Random policy sets: every policy lands in exactly one shard, and policies sharing a repository land
    /// in the same one — so no repository is ever written by two shards (what `validate` would otherwise
    /// have to warn about cannot happen).
    @Test func everyPolicyIsInExactlyOneShardAndARepositoryInOne() {
        var random = SeededGenerator.fromEnvironment("PROMOBOT_SHARD_SEED")
        print("sharding seed \(random.seed) (PROMOBOT_SHARD_SEED to replay)")
        for _ in 0..<environmentInt("PROMOBOT_SHARD_ROUNDS", default: 50) {
            let repositories = (0..<(1 + random.below(40))).map { "group/repo-\($0)" }
            let policies = (0..<(1 + random.below(60))).map { index in
                Self.policy("p\(index)", repositories: (0..<(1 + random.below(3))).map { _ in repositories[random.below(repositories.count)] })
            }
            let count = 1 + random.below(7)
            var owner: [String: Int] = [:], repositoryOwner: [String: Int] = [:]
            for index in 0..<count {
                for policy in Sharding.owned(policies, by: Shard(index: index, count: count)!) {
                    #expect(owner[policy.name] == nil, "\(policy.name) is in two shards (seed \(random.seed))")
                    owner[policy.name] = index
                    for stage in policy.stages {
                        if let other = repositoryOwner[stage.repository] {
                            #expect(other == index, "\(stage.repository) is written by shards \(other) and \(index) (seed \(random.seed))")
                        }
                        repositoryOwner[stage.repository] = index
                    }
                }
            }
            #expect(owner.count == policies.count, "a policy is in no shard (seed \(random.seed))")
        }
    }

    @Test func addingAShardMovesAboutOneInNPlusOneAndOnlyToTheNewShard() {
        let repositories = (0..<1000).map { "group/deploy-\($0)" }
        let before = Dictionary(uniqueKeysWithValues: repositories.map { ($0, Sharding.shard(of: $0, count: 4)) })
        let after = Dictionary(uniqueKeysWithValues: repositories.map { ($0, Sharding.shard(of: $0, count: 5)) })
        let moved = repositories.filter { before[$0] != after[$0] }
        #expect(moved.allSatisfy { after[$0] == 4 }, "a repository moved between old shards")
        let fraction = Double(moved.count) / Double(repositories.count)
        #expect((0.15...0.25).contains(fraction), "moved \(fraction), expected about 0.2")
        // And the load is even: each of 4 shards holds 25% ± 5%.
        for index in 0..<4 {
            let share = Double(before.values.filter { $0 == index }.count) / 1000
            #expect((0.20...0.30).contains(share), "shard \(index) holds \(share)")
        }
    }

    /// The placement must not change between releases or machines: these values are part of the contract.
    @Test func placementIsStableAcrossReleases() {
        #expect(Sharding.shard(of: "group/oms-deploy", count: 4) == Sharding.shard(of: "group/oms-deploy", count: 4))
        #expect([1, 2, 3, 8].map { Sharding.shard(of: "group/oms-deploy", count: $0) } == Self.golden)
    }

    static let golden = [0, 1, 1, 4]

    @Test func parsingTakesTheIndexFromAnIndexedJob() throws {
        #expect(try Shard.parse("1/4", environment: [:]).get() == Shard(index: 1, count: 4))
        #expect(try Shard.parse("4", environment: ["JOB_COMPLETION_INDEX": "3"]).get() == Shard(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "a/4", "1/0", "1/2/3", "4"] {
            guard case .failure = Shard.parse(bad, environment: [:]) else { Issue.record("'\(bad)' parsed"); continue }
        }
    }
}
