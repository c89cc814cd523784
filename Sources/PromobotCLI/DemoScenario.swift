import Board
import Foundation
import Planning
import Git
import GitLab
import HTTP
import Health
import Logging
import Manifests
import Policies
import Promotion
import Registry
import Sandbox

/// `promobot demo`'s story: CI sets a new dev tag -> test MR opened -> auto-merged -> prod MR opened
/// and waiting for 2 approvals -> approvals given -> merged in the window -> status board; then prod
/// goes bad -> promobot rolls it back by itself -> 1.5.0 is held -> the fix 1.5.1 flows to prod; then the
/// registry chapter: prod pins digests, a typo'd tag is blocked, a re-pushed tag is caught.
///
/// Everything runs in-process against the sandbox on a free loopback port, with the real engine,
/// libgit2 and libcurl; only time is simulated (soak and windows would otherwise take a day).
struct DemoScenario {
    var write: @Sendable (String) -> Void = { print($0) }

    func run() async throws {
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }

        let sandbox = try Sandbox(dataDirectory: workspace.appendingPathComponent("sandbox"))
        try await sandbox.start()
        do {
            try await story(sandbox: sandbox, workspace: workspace)
            await sandbox.shutdown()
        } catch {
            await sandbox.shutdown()
            throw error
        }
    }

    private func story(sandbox: Sandbox, workspace: URL) async throws {
        let clock = DemoClock()
        sandbox.setClock { clock.now }
        let botToken = Self.randomToken()
        sandbox.addUser("promobot", token: botToken, role: .developer)
        sandbox.addUser("alice", token: Self.randomToken(), role: .maintainer)
        sandbox.addUser("bob", token: Self.randomToken(), role: .maintainer)
        let project = DemoFixtures.project
        try sandbox.createProject(path: project, defaultBranch: DemoFixtures.branch,
                                  files: DemoFixtures.deployTree(dev: "1.4.2", test: "1.4.2", prod: "1.4.0"))
        sandbox.protectBranch(project: project, branch: DemoFixtures.branch, allowPush: .maintainer)
        let base = sandbox.baseURL.absoluteString
        sandbox.setPrometheus(query: #"sum(rate(http_errors_total{env="dev"}[5m]))"#, value: 0.02)
        setArgo(sandbox, app: "oms-dev", version: "1.4.2", syncedAt: clock.now.addingTimeInterval(-3600))
        setArgo(sandbox, app: "oms-test", version: "1.4.2", syncedAt: clock.now.addingTimeInterval(-3600))
        setArgo(sandbox, app: "oms-prod", version: "1.4.0", syncedAt: clock.now.addingTimeInterval(-3600))
        // The registry asks for tokens, as GitLab's does; promobot logs in with its own user and token.
        DemoFixtures.pushImages(sandbox, versions: ["1.4.0", "1.4.2", "1.5.0"])
        sandbox.setRegistryTokenAuth(true)

        let parsed = PolicyParser.parse(yaml: DemoFixtures.policy(healthURL: "\(base)/-/health"), path: "policies/oms.yaml")
        guard let policy = parsed.policy else {
            throw DemoError("the embedded demo policy is invalid:\n" + parsed.diagnostics.map(\.formatted).joined(separator: "\n"))
        }

        heading("promobot demo")
        say("GitLab sandbox on \(base) (REST v4, git smart HTTP, Argo CD and Prometheus stand-ins)")
        say("deploy repo \(project)@\(DemoFixtures.branch): dev 1.4.2, test 1.4.2, prod 1.4.0 (app, web, migration Job)")
        say("policy oms: dev -> test (soak 30m, merge auto) -> prod (soak 24h, 2 approvals, Mon-Thu 10:00-16:00 Asia/Shanghai, pin: digest)")
        say("registry \(DemoFixtures.registryHost) served by the sandbox (/v2/, token auth): app and web 1.4.0, 1.4.2, 1.5.0 pushed")

        let transport = CurlHTTPClient(configuration: HTTPClientConfiguration())
        let engine = PromotionEngine(
            policies: [policy],
            gitlab: GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(botToken), transport: transport),
            repositories: RepositoryCache(root: workspace.appendingPathComponent("cache"), options: GitTransportOptions()),
            health: HealthChecker(transport: transport, argocd: ServiceAccess(baseURL: sandbox.baseURL, token: nil),
                                  prometheus: ServiceAccess(baseURL: sandbox.baseURL, token: nil)),
            configuration: EngineConfiguration(authorName: "promobot", authorEmail: "promobot@example.com",
                                               gitlabURL: sandbox.baseURL, gitCredentials: .token(botToken),
                                               rollbackConfirmation: Self.confirmation),
            logger: Logger(label: "promobot.demo", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: { clock.now },
            registry: RegistryClient(
                directory: RegistryDirectory(entries: [.init(host: DemoFixtures.registryHost, baseURL: sandbox.registryURL,
                                                             credentials: RegistryCredentials(username: "promobot", password: botToken),
                                                             credentialSource: "config")]),
                transport: RegistryClient.transport(), clock: { clock.now })
        )

        heading("1. CI builds 1.5.0 and runs `promobot set-image` on dev")
        try ciBuilds("1.5.0", sandbox: sandbox, clock: clock)

        heading("2. promobot runs right away: test must wait for the soak")
        try await cycle(engine, only: "test")

        clock.advance(by: 31 * 60)
        heading("3. 31 minutes later: dev has soaked and is healthy, so promobot opens the test MR")
        say("test is `merge: auto`: once GitLab says mergeable, promobot merges it in the same run")
        try await cycle(engine, only: "test")

        heading("4. Next run: test already runs 1.5.0, nothing to do")
        try await cycle(engine, only: "test")
        setArgo(sandbox, app: "oms-test", version: "1.5.0", syncedAt: clock.now)
        say("Argo CD syncs oms-test: Healthy, Synced, running 1.5.0")

        clock.advance(by: 24 * 3600 + 10 * 60)
        heading("5. A day later test has soaked 24h: promobot opens the prod MR, which needs 2 approvals")
        say("prod has `pin: digest`: the MR writes each image as tag@digest, resolved from the registry now")
        try await cycle(engine, only: "prod")
        try showPinned(sandbox)
        say("The next run finds the MR and checks what merging it needs: approvals and the merge window")
        try await cycle(engine, only: "prod")
        try await approveAndMerge(engine, sandbox: sandbox, policy: policy, clock: clock, step: 6)

        heading("9. The board (`promobot status`)")
        try await board(engine, policy: policy)
        try expectProd("1.5.0", sandbox: sandbox)
        say("prod runs 1.5.0: dev -> test -> prod without anyone editing a manifest by hand.")

        // Chapter two: the way back.
        setArgo(sandbox, app: "oms-prod", version: "1.5.0", syncedAt: clock.now)
        clock.advance(by: 10 * 60)
        setArgo(sandbox, app: "oms-prod", version: "1.5.0", health: "Degraded", message: "checkout: 37% of requests fail",
                syncedAt: clock.now.addingTimeInterval(-10 * 60))
        heading("10. Ten minutes after the merge, checkout errors: Argo CD reports oms-prod Degraded")
        say("prod has `rollback: {auto: true, within: 1h}`: a failure of its own health checks within the hour after")
        say("promobot's promotion, confirmed by a second sample (1m apart; 2s in this demo), rolls it back")
        say("with no approvals, outside the merge window: rollbacks skip windows, freezes, soak and the emergency stop")
        try await cycle(engine, only: "prod")
        try expectProd("1.4.0", sandbox: sandbox)
        setArgo(sandbox, app: "oms-prod", version: "1.4.0", syncedAt: clock.now)
        say("Argo CD syncs oms-prod back to 1.4.0: Healthy")

        clock.advance(by: 30 * 60)
        heading("11. Next run: test still offers 1.5.0, but it was rolled back from prod, so it is held")
        try await cycle(engine, only: "prod")
        say("(`promobot promote oms prod --to 1.5.0` would lift the hold on purpose)")

        heading("12. CI builds the fix, 1.5.1: a different version, so it flows as usual")
        DemoFixtures.pushImages(sandbox, versions: ["1.5.1"])
        try ciBuilds("1.5.1", sandbox: sandbox, clock: clock)
        clock.advance(by: 31 * 60)
        try await cycle(engine, only: "test")
        setArgo(sandbox, app: "oms-test", version: "1.5.1", syncedAt: clock.now)
        clock.advance(by: 24 * 3600 + 10 * 60)
        heading("13. A day later: the prod MR for 1.5.1")
        try await cycle(engine, only: "prod")
        try await approveAndMerge(engine, sandbox: sandbox, policy: policy, clock: clock, step: 14)

        heading("17. The board")
        try await board(engine, policy: policy)
        try expectProd("1.5.1", sandbox: sandbox)
        say("prod runs 1.5.1: the bad release went out and came back without anyone editing a manifest by hand.")

        // Chapter three: promote exactly what was tested.
        heading("18. CI writes 1.6.O into dev: a typo, no such image was ever pushed")
        DemoFixtures.pushImages(sandbox, versions: ["1.6.0"])
        try ciBuilds("1.6.O", sandbox: sandbox, clock: clock)
        clock.advance(by: 31 * 60)
        try await cycle(engine, only: "test")
        say("the registry says MANIFEST_UNKNOWN: nothing is promoted, and the gate says which image and tag")

        heading("19. CI fixes the tag and pins it: `promobot set-image --resolve` writes 1.6.0@digest into dev")
        let tested = try ciBuilds("1.6.0", sandbox: sandbox, clock: clock, pinned: true)
        clock.advance(by: 31 * 60)
        heading("20. Before promobot runs, someone re-pushes 1.6.0 to the registry: the tag moves to another build")
        let moved = sandbox.pushImage(DemoFixtures.repository(of: DemoFixtures.appImage), tag: "1.6.0")
        say("app:1.6.0 was \(ImageVersion(tag: nil, digest: tested).display.dropFirst()) when dev tested it, now \(ImageVersion(tag: nil, digest: moved).display.dropFirst())")
        try await cycle(engine, only: "test")
        say("dev runs the digest it tested; the tag no longer points at it, so promobot will not promote it (tag moved)")
    }

    /// Prints the image lines of the open prod MR's branch: `tag@sha256:…`, from the registry.
    private func showPinned(_ sandbox: Sandbox) throws {
        let project = DemoFixtures.project
        guard let mr = sandbox.mergeRequests(project: project).last(where: { $0.state == "opened" && $0.sourceBranch == "promobot/oms/prod" }) else {
            throw DemoError("no prod MR was opened")
        }
        for path in ["prod/app/deploy.yaml", "prod/web/deploy.yaml"] {
            let text = try sandbox.fileContent(project: project, ref: mr.sourceBranch, path: path) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.contains("image:") && $0.contains("@sha256:") }) else {
                throw DemoError("\(path) on !\(mr.iid) is not pinned to a digest")
            }
            say("!\(mr.iid) \(path): \(line.trimmingCharacters(in: .whitespaces))")
        }
    }

    /// CI writes `version` into dev (as `promobot set-image` does; with `pinned`, as `set-image --resolve` does,
    /// with the digests the registry has now) and Argo CD syncs it. Returns app's digest when pinned.
    @discardableResult
    private func ciBuilds(_ version: String, sandbox: Sandbox, clock: DemoClock, pinned: Bool = false) throws -> String {
        let project = DemoFixtures.project
        var edited: [String: String] = [:]
        func digest(_ image: String) -> String? {
            pinned ? sandbox.imageDigest(DemoFixtures.repository(of: image), tag: version) : nil
        }
        for path in ["dev/app/deploy.yaml", "dev/app/migration.yaml", "dev/web/deploy.yaml"] {
            let text = try sandbox.fileContent(project: project, ref: DemoFixtures.branch, path: path) ?? ""
            let edit = try ManifestEditor.edit(text, path: path, updates: [
                ImageUpdate(image: DemoFixtures.appImage, tag: version, digest: digest(DemoFixtures.appImage)),
                ImageUpdate(image: DemoFixtures.webImage, tag: version, digest: digest(DemoFixtures.webImage)),
            ])
            for change in edit.changes { say("\(change.path):\(change.line): \(change.image) \(change.old) -> \(change.new)") }
            edited[path] = edit.text
        }
        try sandbox.commit(project: project, branch: DemoFixtures.branch, files: edited,
                           message: "[jenkins] Update dev image version to \(version)", author: "jenkins")
        setArgo(sandbox, app: "oms-dev", version: version, syncedAt: clock.now)
        say("Argo CD syncs oms-dev: Healthy, Synced, running \(version)")
        return digest(DemoFixtures.appImage) ?? ""
    }

    /// alice and bob approve the open prod MR; promobot merges it inside the merge window.
    /// Steps `step`, `step + 1` and `step + 2`.
    private func approveAndMerge(_ engine: PromotionEngine, sandbox: Sandbox, policy: Policy, clock: DemoClock, step: Int) async throws {
        let project = DemoFixtures.project
        let prodMR = try require(sandbox.mergeRequests(project: project).last { $0.state == "opened" && $0.sourceBranch == "promobot/oms/prod" },
                                 "no prod MR was opened")
        heading("\(step). alice approves !\(prodMR.iid): 1 of 2")
        try sandbox.approve(project: project, iid: prodMR.iid, username: "alice")
        try await cycle(engine, only: "prod")

        heading("\(step + 1). bob approves !\(prodMR.iid): 2 of 2")
        try sandbox.approve(project: project, iid: prodMR.iid, username: "bob")
        let calendar = MergeCalendar(stage: policy.stage(named: "prod")!)
        if !calendar.isOpen(at: clock.now) {
            try await cycle(engine, only: "prod")
            let opening = try require(calendar.firstOpening(from: clock.now), "the prod calendar never opens")
            clock.advance(to: opening.addingTimeInterval(60))
            heading("\(step + 2). The merge window opens (\(Self.format(clock.now, zone: "Asia/Shanghai")) Asia/Shanghai): promobot merges")
        } else {
            heading("\(step + 2). Inside the merge window: promobot merges")
        }
        try await cycle(engine, only: "prod")
    }

    private func board(_ engine: PromotionEngine, policy: Policy) async throws {
        let report = await engine.runCycle()
        write(StatusBoard(policies: [policy], report: report, cycleTime: nil, emergencyStop: engine.configuration.emergencyStop).render(.text))
    }

    private func expectProd(_ version: String, sandbox: Sandbox) throws {
        let prod = try sandbox.fileContent(project: DemoFixtures.project, ref: DemoFixtures.branch, path: "prod/app/deploy.yaml") ?? ""
        guard prod.contains("\(DemoFixtures.appImage):\(version)") else { throw DemoError("prod does not run \(version)") }
    }

    /// How far apart the demo's two health samples are (a real run waits a minute).
    static let confirmation: Duration = .seconds(2)

    // MARK: - Helpers

    private func cycle(_ engine: PromotionEngine, only stage: String) async throws {
        let report = await engine.runCycle()
        for outcome in report.stages where outcome.plan.stage == stage {
            write(PlanPrinter.text(outcome, now: engine.clock()))
        }
        if let failure = report.errors.first { throw DemoError("cycle failed: \(failure)") }
        if let broken = report.stages.first(where: { $0.error != nil }) {
            throw DemoError("cycle failed for \(broken.plan.policy)/\(broken.plan.stage): \(broken.error!)")
        }
    }

    private func setArgo(_ sandbox: Sandbox, app: String, version: String, health: String = "Healthy", message: String? = nil,
                         syncedAt: Date) {
        sandbox.setArgoApplication(SandboxArgoApplication(
            name: app, health: health, healthMessage: message,
            images: ["\(DemoFixtures.appImage):\(version)", "\(DemoFixtures.webImage):\(version)"],
            operationFinishedAt: syncedAt))
    }

    private func heading(_ text: String) { write("\n== \(text)") }
    private func say(_ text: String) { write("   \(text)") }

    private func require<T>(_ value: T?, _ message: String) throws -> T {
        guard let value else { throw DemoError(message) }
        return value
    }

    static func randomToken() -> String {
        (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    static func format(_ date: Date, zone: String) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.dateFormat = "EEE yyyy-MM-dd HH:mm"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: date)
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "demo: " + description }
}
