import Foundation
import Planning
import GitLab
import Policies
import Promotion
import Testing
import TestSupport
@testable import Sandbox

/// A randomized fault-and-churn campaign against the sandbox, with invariants after every round and
/// convergence once the faults stop (the way Jepsen tests, scaled down to seconds).
///
/// Each round: CI may commit a new dev build (Argo CD follows), faults are injected on REST, git and
/// Argo CD endpoints (429 with `Retry-After`, 5xx, dropped connections, delays), one to three runs go at
/// once (on separate caches, as separate pods would) and one may be killed; people approve, push to a
/// bot branch, and close what they pushed to. `PROMOBOT_CHURN_ROUNDS` runs more rounds,
/// `PROMOBOT_CHURN_SEED` replays a printed seed.
@Suite(.serialized) struct EngineChurnTests {
    static let project = EngineHarness.project
    static let encoded = "group%2Foms-deploy"

    @Test func faultsAndChurnKeepTheInvariantsThenConverge() async throws {
        var random = SeededGenerator.fromEnvironment("PROMOBOT_CHURN_SEED")
        let rounds = environmentInt("PROMOBOT_CHURN_ROUNDS", default: 20)
        print("churn: seed \(random.seed), \(rounds) rounds (replay with PROMOBOT_CHURN_SEED=\(random.seed))")
        try await withHarness(testStage: "    merge: auto\n", prodStage: EngineBusyRepositoryTests.prodApproved,
                              devHealth: EngineBusyRepositoryTests.argoDev) { h in
            h.configure = { $0.mergeabilityWait = .milliseconds(300); $0.mergeabilityPoll = .milliseconds(50) }
            var build = 0
            var humanHeads: [String: String] = [:]   // bot branch -> a person's commit on it
            for round in 1...rounds {
                let context = "seed \(random.seed), round \(round)"
                // People act on what the last round left.
                try await peopleAct(h, humanHeads: &humanHeads, random: &random)
                if random.chance(2, in: 3) {
                    build += 1
                    try EngineBusyRepositoryTests.ciBuilds("1.7.\(build)", h)
                }
                for _ in 0..<Int.random(in: 0...3, using: &random) { h.sandbox.injectFault(Self.fault(&random)) }
                await Self.runConcurrently(h, runs: Int.random(in: 1...3, using: &random),
                                           kill: random.chance(1, in: 3), random: &random)
                h.sandbox.clearFaults()
                try Self.checkInvariants(h, humanHeads: humanHeads, context: context)
            }

            // Faults stop; people close what they took over; three clean cycles converge.
            for (branch, _) in humanHeads { try await Self.closeAsAPerson(h, branch: branch) }
            h.setArgo("oms-dev", version: "1.7.\(build)")
            for _ in 1...3 { try await h.cycle() }
            let context = "seed \(random.seed), after the faults stopped"
            let dev = try Self.version(h, "dev"), test = try Self.version(h, "test"), prod = try Self.version(h, "prod")
            #expect(test == dev, "test holds \(test), dev \(dev) (\(context))")
            let prodMRs = h.openMergeRequests.filter { $0.sourceBranch == "promobot/oms/prod" }
            #expect(prod == test || (prodMRs.count == 1 && prodMRs[0].title.contains("app \(test),")),
                    "prod holds \(prod), test \(test), prod MRs \(prodMRs.map(\.title)) (\(context))")
            try Self.checkInvariants(h, humanHeads: [:], context: context)
            let branches = try Self.git(h, ["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
            for mr in h.openMergeRequests {
                #expect(branches.split(separator: "\n").contains(Substring(mr.sourceBranch)), "!\(mr.iid) has no branch (\(context))")
            }
            for pod in 0..<3 {
                #expect(try !h.cacheContains(h.botToken, cache: "pod-\(pod)"), "the token reached pod-\(pod)'s cache on disk (\(context))")
            }
        }
    }

    // MARK: - One round

    /// Approvals, a push to a bot branch now and then, and closing what a person took over.
    private func peopleAct(_ h: EngineHarness, humanHeads: inout [String: String], random: inout SeededGenerator) async throws {
        for (branch, _) in humanHeads where random.chance(1, in: 2) {
            try await Self.closeAsAPerson(h, branch: branch)
            humanHeads[branch] = nil
        }
        for mr in h.openMergeRequests where mr.sourceBranch == "promobot/oms/prod" && random.chance(1, in: 2) {
            let person = ["alice", "bob"].randomElement(using: &random)!
            try? h.sandbox.approve(project: Self.project, iid: mr.iid, username: person)   // refused when already approved
        }
        if random.chance(1, in: 6), let mr = h.openMergeRequests.randomElement(using: &random), humanHeads[mr.sourceBranch] == nil {
            let stage = mr.sourceBranch.split(separator: "/").last.map(String.init) ?? "test"
            humanHeads[mr.sourceBranch] = try h.sandbox.commit(project: Self.project, branch: mr.sourceBranch,
                                                               files: ["\(stage)/NOTES.md": "hold this one\n"],
                                                               message: "a person's fix", author: "alice")
        }
    }

    static func closeAsAPerson(_ h: EngineHarness, branch: String) async throws {
        if let mr = h.openMergeRequests.first(where: { $0.sourceBranch == branch }) {
            _ = try await h.alice.updateMergeRequest(.path(project), iid: mr.iid, UpdateMergeRequest(stateEvent: .close))
        }
        _ = try await h.alice.deleteBranch(.path(project), branch)
    }

    static func fault(_ random: inout SeededGenerator) -> SandboxFault {
        let paths = [
            "/api/v4/projects/\(encoded)/merge_requests", "/api/v4/projects/\(encoded)/merge_requests/",
            "/api/v4/projects/\(encoded)/repository", "/\(project).git/info/refs", "/\(project).git/git-upload-pack",
            "/\(project).git/git-receive-pack", "/api/v1/applications",
        ]
        let kinds: [SandboxFault.Kind] = [
            .status(429, body: #"{"message":"429 Too Many Requests"}"#, headers: ["Retry-After": "1"]),
            .status(500, body: #"{"message":"500 Internal Server Error"}"#), .status(502), .status(503),
            .drop, .delay(.milliseconds(150)),
        ]
        let method = [nil, "GET", "POST", "PUT"].randomElement(using: &random)!
        return SandboxFault(method: method, pathPrefix: paths.randomElement(using: &random)!,
                            kind: kinds.randomElement(using: &random)!, count: Int.random(in: 1...3, using: &random))
    }

    /// One to three runs at once, each on its own cache; with `kill`, one is cancelled at a random moment.
    static func runConcurrently(_ h: EngineHarness, runs: Int, kill: Bool, random: inout SeededGenerator) async {
        let victim = kill ? Int.random(in: 0..<runs, using: &random) : -1
        let killAfter = Duration.milliseconds(Int.random(in: 0...400, using: &random))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<runs {
                guard let engine = try? h.engine(cache: "pod-\(index)") else { continue }
                let task = Task { _ = await engine.runCycle() }
                group.addTask { await task.value }
                if index == victim {
                    group.addTask {
                        try? await Task.sleep(for: killAfter)
                        task.cancel()
                    }
                }
            }
        }
    }

    // MARK: - Invariants

    static func checkInvariants(_ h: EngineHarness, humanHeads: [String: String], context: String) throws {
        // At most one open MR per stage.
        let open = h.openMergeRequests
        for branch in Set(open.map(\.sourceBranch)) {
            #expect(open.filter { $0.sourceBranch == branch }.count == 1, "two open MRs from \(branch) (\(context))")
        }
        // No direct push to the target branch: every bot commit on master's first-parent line is a merge.
        for line in try git(h, ["log", "--first-parent", "--format=%ae %P", "master"]).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.first == "promobot@example.com" {
                #expect(parts.count == 3, "promobot committed to master directly: \(line) (\(context))")
            }
        }
        // A person's commit is never overwritten.
        for (branch, commit) in humanHeads {
            #expect(try h.sandbox.branchSHA(project: project, branch: branch) == commit, "\(branch) lost a person's commit (\(context))")
        }
        let branches = Set(try git(h, ["for-each-ref", "--format=%(refname:short)", "refs/heads/"]).split(separator: "\n").map(String.init))
        // (An MR whose branch vanished in a race is pushed again by the next cycle; convergence checks that.)
        for mr in open where humanHeads[mr.sourceBranch] == nil && branches.contains(mr.sourceBranch) {
            // Only version bytes changed: the branch's diff against its merge base, with versions masked, is empty.
            let diff = try git(h, ["diff", "--unified=0", "master...\(mr.sourceBranch)"])
            var removed: [String] = [], added: [String] = []
            for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("---") || line.hasPrefix("+++") { continue }
                if line.hasPrefix("-") { removed.append(maskVersions(String(line.dropFirst()))) }
                if line.hasPrefix("+") { added.append(maskVersions(String(line.dropFirst()))) }
            }
            #expect(!added.isEmpty && removed.sorted() == added.sorted(),
                    "\(mr.sourceBranch) changes more than versions:\n\(diff) (\(context))")
            // No token in any MR text.
            #expect(!(mr.title + mr.description + mr.notes.map(\.body).joined()).contains(h.botToken), "token in !\(mr.iid) (\(context))")
        }
        #expect(!h.logs.text.contains(h.botToken), "token in the logs (\(context))")
    }

    static func maskVersions(_ line: String) -> String {
        line.replacing(/(oms\/(app|web)):[0-9A-Za-z._-]+/) { "\($0.output.1):V" }
    }

    static func version(_ h: EngineHarness, _ stage: String) throws -> String {
        let text = try h.file("\(stage)/app/deploy.yaml")
        guard let match = text.firstMatch(of: /oms\/app:([0-9A-Za-z._-]+)/) else { return "?" }
        return String(match.output.1)
    }

    static func git(_ h: EngineHarness, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/env", ["git", "-C", h.bareRepository.path] + arguments)
        guard result.status == 0 else { throw HarnessError("git \(arguments.joined(separator: " ")): \(result.errorText)") }
        return result.output
    }
}
