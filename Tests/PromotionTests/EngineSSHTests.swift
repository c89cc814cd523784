import Foundation
import Git
import Policies
import Promotion
import Testing
import TestSupport
@testable import Sandbox

/// `git.transport: ssh` end to end: the engine clones, fetches and pushes the sandbox's repositories
/// through a real sshd with key authentication and host-key checking, and learns GitLab's SSH URL
/// shape from one project lookup.
@Suite(.serialized) struct EngineSSHTests {
    /// The harness with its engines set to SSH against `server`, whose commands may push as a developer.
    static func overSSH(_ h: EngineHarness, _ server: SSHServer, knownHosts: String? = nil) {
        h.sandbox.serveGitOverSSH(at: "ssh://\(server.user)@127.0.0.1:\(server.port)")
        var options = GitTransportOptions(proxyFromEnvironment: false)
        options.knownHostsPath = knownHosts ?? server.knownHosts
        h.gitOptions = options
        let key = server.clientKey, publicKey = server.clientPublicKey
        h.configure = { configuration in
            configuration.gitTransport = .ssh
            configuration.gitCredentials = .sshKey(privateKey: key, publicKey: publicKey, passphrase: nil)
        }
    }

    static func sshServer() throws -> SSHServer {
        try SSHServer(extraConfig: "SetEnv SANDBOX_ROLE_LEVEL=30")
    }

    @Test(.enabled(if: SSHServer.available, "needs sshd (apt-get install openssh-server)"))
    func aPromotionTravelsOverSSH() async throws {
        let server = try Self.sshServer()
        defer { server.stop() }
        try await withHarness(testStage: "    merge: auto\n") { h in
            Self.overSSH(h, server)
            try h.setDev("1.5.0")
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let test = try #require(report.stages.first { $0.plan.stage == "test" })
            #expect(test.actions.contains { if case .merged = $0 { true } else { false } }, "\(test.actions)")
            let manifest = try h.sandbox.fileContent(project: EngineHarness.project, ref: "master", path: "test/app/deploy.yaml") ?? ""
            #expect(manifest.contains("\(EngineHarness.app):1.5.0"))
            // No git went over HTTP: every ref probe, fetch and push used sshd.
            #expect(!h.sandbox.requestLog().contains { $0.contains(".git/") }, "\(h.sandbox.requestLog())")
        }
    }

    @Test(.enabled(if: SSHServer.available, "needs sshd (apt-get install openssh-server)"))
    func theSSHURLShapeIsLearnedFromOneLookup() async throws {
        let server = try Self.sshServer()
        defer { server.stop() }
        try await withHarness { h in
            Self.overSSH(h, server)
            let policies = [h.policy, try EngineListingTests.addPayments(h)]
            h.sandbox.resetRequestLog()
            let report = try await h.engine(policies: policies).runCycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let lookups = h.sandbox.requestLog().filter { $0.hasPrefix("/api/v4/projects/") && !$0.contains("/merge_requests") }
            #expect(lookups.count == 1, "one project lookup for two repositories: \(lookups)")
        }
    }

    @Test(.enabled(if: SSHServer.available, "needs sshd (apt-get install openssh-server)"))
    func anUnknownHostKeyIsAClearErrorNamingTheHostAndTheFile() async throws {
        let server = try Self.sshServer()
        defer { server.stop() }
        try await withHarness { h in
            let wrong = try server.wrongKnownHosts()
            Self.overSSH(h, server, knownHosts: wrong)
            try h.setDev("1.5.0")
            let report = try await h.cycle()
            let errors = report.stages.compactMap(\.error).map { "\($0)" } + report.errors.map { "\($0)" }
            #expect(errors.contains { $0.contains("[127.0.0.1]:\(server.port)") && $0.contains(wrong) && $0.contains("does not match") },
                    "\(errors)")
            #expect(h.openMergeRequests.isEmpty)
        }
    }
}
