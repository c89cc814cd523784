import Foundation
import Sandbox
import Testing
import TestSupport
@testable import PromobotCLI

/// `promobot set-image --resolve`: the real binary pins the digest the sandbox's registry resolves, with the
/// credentials the config names (token auth on), and writes nothing for a tag the registry does not have.
@Suite struct SetImageResolveTests {
    static let app = "registry.example.com/oms/app"

    /// A deploy folder with one manifest at 1.4.2 and a config pointing registry.example.com at the sandbox.
    func workspace(_ sandbox: Sandbox, _ folder: URL) throws -> (config: String, manifest: URL) {
        let manifest = folder.appendingPathComponent("deploy/app.yaml")
        try FileManager.default.createDirectory(at: manifest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "spec:\n  containers:\n    - name: app\n      image: \(Self.app):1.4.2 # pinned by CI\n".write(to: manifest, atomically: true, encoding: .utf8)
        let config = folder.appendingPathComponent("promobot.yaml")
        try """
        registries:
          registry.example.com:
            url: \(sandbox.registryURL.absoluteString)
            usernameEnv: REG_USER
            passwordEnv: REG_PASSWORD

        """.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, manifest)
    }

    @Test func resolvePinsTheRegistrysDigest() async throws {
        try await withSandbox("set-image-resolve") { sandbox, folder in
            sandbox.addUser("ci", token: "ci-registry-password-1234", role: .developer)
            sandbox.setRegistryTokenAuth(true)
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            let (config, manifest) = try workspace(sandbox, folder)
            let result = try await BinaryRunner.run(["set-image", "--resolve", "--config", config, "\(Self.app):1.5.0", manifest.path],
                                                    environment: ["REG_USER": "ci", "REG_PASSWORD": "ci-registry-password-1234", "DOCKER_CONFIG": folder.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("resolved \(Self.app):1.5.0 -> \(digest)"))
            let text = try String(contentsOf: manifest, encoding: .utf8)
            #expect(text == "spec:\n  containers:\n    - name: app\n      image: \(Self.app):1.5.0@\(digest) # pinned by CI\n")
            #expect(!(result.stdout + result.stderr).contains("ci-registry-password-1234"))
        }
    }

    @Test func anUnknownTagWritesNothing() async throws {
        try await withSandbox("set-image-resolve-404") { sandbox, folder in
            sandbox.pushImage("oms/app", tag: "1.5.0")
            let (config, manifest) = try workspace(sandbox, folder)
            let before = try String(contentsOf: manifest, encoding: .utf8)
            let result = try await BinaryRunner.run(["set-image", "--resolve", "--config", config, "\(Self.app):1.5.O", manifest.path],
                                                    environment: ["REG_USER": "ci", "REG_PASSWORD": "whatever-password", "DOCKER_CONFIG": folder.path])
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: \(Self.app):1.5.O not found in its registry (MANIFEST_UNKNOWN)"))
            #expect(result.stderr.contains("nothing was written"))
            #expect(try String(contentsOf: manifest, encoding: .utf8) == before)
        }
    }

    @Test func configOnlyWithResolve() throws {
        #expect(throws: (any Error).self) { _ = try Promobot.parseAsRoot(["set-image", "--config", "x.yaml", "app:1.0", "/tmp"]) }
    }
}
