import Policies
import Testing
@testable import Promotion

/// Which policies may run at the same time: only those that share no repository.
struct EngineLaneTests {
    static func policy(_ name: String, _ repositories: [String]) throws -> Policy {
        let stages = repositories.enumerated().map { index, repository in
            "  - name: s\(index)\n    repository: \(repository)\n    paths: [s\(index)/]\n"
        }.joined()
        let yaml = "version: 1\nname: \(name)\nbranch: main\nimages: [registry.example.com/\(name)/app]\nstages:\n" + stages
        let parsed = PolicyParser.parse(yaml: yaml, path: "policies/\(name).yaml")
        return try #require(parsed.policy, "\(parsed.diagnostics.map(\.formatted))")
    }

    @Test func policiesOnSeparateRepositoriesGetTheirOwnLanes() throws {
        let policies = [try Self.policy("a", ["g/a", "g/a"]), try Self.policy("b", ["g/b", "g/b"]), try Self.policy("c", ["g/c", "g/c"])]
        #expect(PromotionEngine.lanes(of: policies) == [[0], [1], [2]])
    }

    @Test func sharedRepositoriesJoinLanesTransitively() throws {
        // a and c share g/shared; d links b's repository with c's prod repository, so all but e end up in one lane.
        let policies = [
            try Self.policy("a", ["g/a", "g/shared"]),
            try Self.policy("b", ["g/b", "g/b"]),
            try Self.policy("c", ["g/c", "g/shared"]),
            try Self.policy("d", ["g/b", "g/c"]),
            try Self.policy("e", ["g/e", "g/e"]),
        ]
        #expect(PromotionEngine.lanes(of: policies) == [[0, 1, 2, 3], [4]])
    }

    @Test func everyPolicyIsInExactlyOneLane() throws {
        let repositories = ["g/1", "g/2", "g/3", "g/4"]
        var policies: [Policy] = []
        for index in 0..<12 {
            policies.append(try Self.policy("p\(index)", [repositories[index % 4], repositories[(index * 7 + 1) % 4]]))
        }
        let lanes = PromotionEngine.lanes(of: policies)
        #expect(lanes.flatMap { $0 }.sorted() == Array(0..<12))
        for lane in lanes { #expect(lane == lane.sorted()) }
        // No repository appears in two lanes.
        let owners = lanes.map { lane in Set(lane.flatMap { policies[$0].stages.map(\.repository) }) }
        for (i, a) in owners.enumerated() { for b in owners[(i + 1)...] { #expect(a.isDisjoint(with: b)) } }
    }
}
