import ArgumentParser
import Foundation
import Git
import Sandbox

/// `promobot-bench refresh`: refreshes N cached repositories (none changed, then some changed) through the
/// `Git` module against the in-process sandbox over loopback smart HTTP with a token, and in the same run a
/// shell loop of `git fetch` over ordinary CLI clones of the same repositories.
///
/// Reports per repository: round trips (our ref listings + fetches from `GitCounters`; HTTP requests seen by
/// the sandbox for both) and wall time, the ratios ours vs `git fetch`, and whether an unchanged repository
/// cost one ref listing and nothing else.
struct RefreshBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "RepositoryCache.refresh vs a shell loop of `git fetch` over the same sandbox repos (ratios from one run)."
    )

    @Option(help: "How many repositories.")
    var repos = 100

    @Option(help: "How many of them change before the second phase.")
    var changed = 10

    @Option(help: "Rounds of each phase; the median is reported.")
    var rounds = 3

    @Option(help: "The git fetch baseline script (default: scripts/bench-baseline-git-fetch.sh of this source tree).")
    var script: String?

    @Flag(help: "Keep the temp folder instead of deleting it.")
    var keep = false

    func validate() throws {
        guard repos > 0 else { throw ValidationError("'--repos' must be at least 1") }
        guard (0...repos).contains(changed) else { throw ValidationError("'--changed' must be between 0 and '--repos' (\(repos))") }
        guard rounds > 0 else { throw ValidationError("'--rounds' must be at least 1") }
    }

    /// One side's figures for one phase (medians over rounds).
    struct Side {
        var seconds: Double
        var requests: RequestTally
        var counters: GitCounters?
    }

    func run() async throws {
        let root = try BenchSupport.makeTempFolder("promobot-bench-refresh")
        defer { if !keep { try? FileManager.default.removeItem(at: root) } }
        let sandbox = try Sandbox(dataDirectory: root.appendingPathComponent("sandbox"))
        try await sandbox.start()
        do {
            try await measure(sandbox: sandbox, root: root)
        } catch {
            await sandbox.shutdown()
            throw error
        }
        await sandbox.shutdown()
    }

    private func measure(sandbox: Sandbox, root: URL) async throws {
        let token = BenchSupport.makeToken()
        sandbox.addUser("bench", token: token, role: .maintainer)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("refresh benchmark: \(repos) repositories, \(changed) changed in phase 2, \(rounds) rounds, \(cores) cores, sandbox \(sandbox.baseURL)")

        // Repositories: a small deploy tree each.
        var projects: [SandboxProject] = []
        for index in 0..<repos {
            projects.append(try sandbox.createProject(path: String(format: "bench/repo-%03d", index), defaultBranch: "main",
                                                      files: Self.files(index, version: "1.0.0")))
        }

        // Ours: one cache, first refresh is the clone.
        let cache = RepositoryCache(root: root.appendingPathComponent("cache"))
        var repositories: [CachedRepository] = []
        for project in projects {
            repositories.append(try await cache.repository(for: GitRemote(url: project.httpURLToRepo, credentials: .token(token))))
        }
        let (ourClone, ourCloneRequests) = try await sandbox.tally {
            try await BenchSupport.timed { for repo in repositories { _ = try await repo.refresh(branches: ["main"]) } }.1
        }

        // Theirs: ordinary clones made by the git CLI.
        let clonesRoot = root.appendingPathComponent("clones")
        try FileManager.default.createDirectory(at: clonesRoot, withIntermediateDirectories: true)
        let list = root.appendingPathComponent("repos.txt")
        try projects.enumerated().map { "\($1.httpURLToRepo) \(clonesRoot.path)/repo-\($0)" }.joined(separator: "\n")
            .appending("\n").write(to: list, atomically: true, encoding: .utf8)
        let scriptPath = BenchSupport.scriptPath("bench-baseline-git-fetch.sh", override: script)
        let environment = ChildProcess.environment([
            "BENCH_GIT_TOKEN": token, "HOME": root.path, "GIT_CONFIG_GLOBAL": "/dev/null",
        ])
        func baseline(_ mode: String) throws -> ChildResult {
            let result = try ChildProcess.run("/bin/sh", [scriptPath, mode, list.path], environment: environment,
                                              currentDirectory: root.path, logPath: root.appendingPathComponent("baseline-\(mode).log").path)
            guard result.status == 0 else {
                throw ValidationError("the git baseline (\(mode)) failed with status \(result.status):\n\(result.logTail())")
            }
            return result
        }
        let (theirClone, theirCloneRequests) = try await sandbox.tally { try baseline("clone") }

        // Phase 1: nothing changed. Phase 2: `changed` repositories got a commit since the last refresh.
        var unchanged: [(ours: Side, theirs: Side)] = []
        var someChanged: [(ours: Side, theirs: Side)] = []
        var oursPerRepoUnchanged: [Double] = []
        for round in 0..<rounds {
            unchanged.append(try await phase(sandbox: sandbox, cache: cache, repositories: repositories, perRepo: &oursPerRepoUnchanged) {
                try baseline("fetch")
            })
            for index in Self.changedIndexes(repos: repos, changed: changed) {
                try sandbox.commit(project: projects[index].path, branch: "main",
                                   files: Self.files(index, version: "1.\(round + 1).0"), message: "[ci] bump to 1.\(round + 1).0")
            }
            var ignored: [Double] = []
            someChanged.append(try await phase(sandbox: sandbox, cache: cache, repositories: repositories, perRepo: &ignored) {
                try baseline("fetch")
            })
        }

        // Report.
        let n = Double(repos)
        func perRepo(_ value: Int) -> String { String(format: "%.2f", Double(value) / n) }
        func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000 / n) }
        print("")
        print("Per repository (median of \(rounds) rounds; HTTP requests as seen by the sandbox):")
        var rows: [[String]] = [["phase", "side", "wall/repo", "HTTP req/repo", "info/refs", "upload-pack", "ref listings", "fetches", "time ours:git", "requests ours:git"]]
        func addRows(_ name: String, _ results: [(ours: Side, theirs: Side)]) {
            let ours = Self.median(results.map(\.ours)), theirs = Self.median(results.map(\.theirs))
            rows.append([name, "promobot", ms(ours.seconds), perRepo(ours.requests.total), perRepo(ours.requests.infoRefs),
                         perRepo(ours.requests.uploadPack), perRepo(ours.counters?.refListings ?? 0), perRepo(ours.counters?.fetches ?? 0),
                         String(format: "%.2f", ours.seconds / theirs.seconds),
                         String(format: "%.2f", Double(ours.requests.total) / Double(max(1, theirs.requests.total)))])
            rows.append([name, "git fetch", ms(theirs.seconds), perRepo(theirs.requests.total), perRepo(theirs.requests.infoRefs),
                         perRepo(theirs.requests.uploadPack), "-", "-", "", ""])
        }
        addRows("unchanged", unchanged)
        addRows("\(changed) changed", someChanged)
        rows.append(["first (clone)", "promobot", ms(ourClone), perRepo(ourCloneRequests.total), perRepo(ourCloneRequests.infoRefs),
                     perRepo(ourCloneRequests.uploadPack), "", "", String(format: "%.2f", ourClone / theirClone.seconds),
                     String(format: "%.2f", Double(ourCloneRequests.total) / Double(max(1, theirCloneRequests.total)))])
        rows.append(["first (clone)", "git clone", ms(theirClone.seconds), perRepo(theirCloneRequests.total),
                     perRepo(theirCloneRequests.infoRefs), perRepo(theirCloneRequests.uploadPack), "-", "-", "", ""])
        BenchSupport.printTable(rows)

        let ours1 = Self.median(unchanged.map(\.ours)), theirs1 = Self.median(unchanged.map(\.theirs))
        let ours2 = Self.median(someChanged.map(\.ours)), theirs2 = Self.median(someChanged.map(\.theirs))
        oursPerRepoUnchanged.sort()
        if !oursPerRepoUnchanged.isEmpty {
            let p50 = oursPerRepoUnchanged[oursPerRepoUnchanged.count / 2]
            let p95 = oursPerRepoUnchanged[min(oursPerRepoUnchanged.count - 1, oursPerRepoUnchanged.count * 95 / 100)]
            print(String(format: "promobot unchanged refresh, per call: p50 %.2f ms, p95 %.2f ms, max %.2f ms",
                         p50 * 1000, p95 * 1000, oursPerRepoUnchanged.last! * 1000))
        }
        print("")
        print("ratios (same run): unchanged: git fetch takes \(BenchSupport.ratio(theirs1.seconds, ours1.seconds)) our wall time, "
              + "\(BenchSupport.ratio(Double(theirs1.requests.total), Double(ours1.requests.total))) our HTTP requests; "
              + "\(changed) changed: \(BenchSupport.ratio(theirs2.seconds, ours2.seconds)) wall time, "
              + "\(BenchSupport.ratio(Double(theirs2.requests.total), Double(ours2.requests.total))) HTTP requests")

        // Target: an unchanged repository costs one ref listing and nothing else.
        let listingsHeld = unchanged.allSatisfy { $0.ours.counters == GitCounters(refListings: repos, fetches: 0, pushes: 0) }
        let httpHeld = unchanged.allSatisfy { $0.ours.requests.total == repos && $0.ours.requests.infoRefs == repos }
        let changedHeld = someChanged.allSatisfy { $0.ours.counters == GitCounters(refListings: repos, fetches: changed, pushes: 0) }
        print("target: unchanged repo = 1 ref listing, 0 fetches (GitCounters): \(BenchSupport.verdict(listingsHeld))")
        print("target: unchanged repo = 1 HTTP request (the info/refs GET) at the sandbox: \(BenchSupport.verdict(httpHeld))"
              + (httpHeld ? "" : String(format: " (%.2f requests/repo: %@)", Double(ours1.requests.total) / n, ours1.requests.description)))
        print("check: \(changed) changed = \(repos) ref listings + \(changed) fetches: \(BenchSupport.verdict(changedHeld))")
        if !listingsHeld || !changedHeld { throw ExitCode(1) }
    }

    /// Refreshes every repository with ours, then runs the `git fetch` loop, each with a clean request log.
    private func phase(sandbox: Sandbox, cache: RepositoryCache, repositories: [CachedRepository], perRepo: inout [Double],
                       baseline: () throws -> ChildResult) async throws -> (ours: Side, theirs: Side) {
        let before = cache.counters
        var times: [Double] = []
        let clock = ContinuousClock()
        let (oursSeconds, oursRequests) = try await sandbox.tally {
            try await BenchSupport.timed {
                for repo in repositories {
                    let start = clock.now
                    _ = try await repo.refresh(branches: ["main"])
                    times.append(BenchSupport.seconds(clock.now - start))
                }
            }.1
        }
        perRepo += times
        let after = cache.counters
        let delta = GitCounters(refListings: after.refListings - before.refListings, fetches: after.fetches - before.fetches,
                                pushes: after.pushes - before.pushes)
        let (theirs, theirRequests) = try await sandbox.tally { try baseline() }
        return (Side(seconds: oursSeconds, requests: oursRequests, counters: delta),
                Side(seconds: theirs.seconds, requests: theirRequests, counters: nil))
    }

    /// The round with the median wall time (its request counts come with it).
    static func median(_ sides: [Side]) -> Side {
        sides.sorted { $0.seconds < $1.seconds }[sides.count / 2]
    }

    /// Spread the changed repositories evenly (every k-th).
    static func changedIndexes(repos: Int, changed: Int) -> [Int] {
        guard changed > 0 else { return [] }
        return (0..<changed).map { $0 * repos / changed }
    }

    /// A small deploy tree: three environments, a deployment each.
    static func files(_ index: Int, version: String) -> [String: String] {
        var files: [String: String] = [:]
        for env in ["dev", "test", "prod"] {
            files["\(env)/app/deploy.yaml"] = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: app-\(index)
                  namespace: \(env)
                spec:
                  template:
                    spec:
                      containers:
                        - name: app
                          image: registry.example.com/bench/app-\(index):\(env == "dev" ? version : "1.0.0")

                """
        }
        files["README.md"] = "# repo \(index)\n"
        return files
    }
}
