import Foundation
import Manifests
import Policies
import Testing
@testable import Registry

/// Where credentials come from, and that each is filed under its own host only.
@Suite struct RegistryDirectoryTests {
    func noFile(_ path: String) throws -> String { throw CocoaError(.fileNoSuchFile) }

    @Test func configCredentialsFromEnvironmentAndFile() throws {
        let settings = [
            RegistrySettings(host: "registry.example.com", usernameEnv: "REG_USER", passwordEnv: "REG_PASSWORD"),
            RegistrySettings(host: "ghcr.io", usernameEnv: "GH_USER", passwordFile: "/run/secrets/ghcr"),
            RegistrySettings(host: "docker.io"),
        ]
        let directory = try RegistryDirectory(
            settings: settings, environment: ["REG_USER": "deploy", "REG_PASSWORD": "s3cret-pass", "GH_USER": "bot"],
            readFile: { path in path == "/run/secrets/ghcr" ? "gh-token-value\n" : try noFile(path) })
        #expect(directory.entry(for: "registry.example.com")?.credentials == RegistryCredentials(username: "deploy", password: "s3cret-pass"))
        #expect(directory.entry(for: "ghcr.io")?.credentials == RegistryCredentials(username: "bot", password: "gh-token-value"))
        #expect(directory.entry(for: "index.docker.io")?.baseURL.absoluteString == "https://registry-1.docker.io")
        #expect(directory.entry(for: "docker.io")?.credentials == nil)
        #expect(directory.entry(for: "quay.io") == nil)
    }

    @Test func aMissingVariableNamesItAndNotTheSecret() {
        #expect {
            _ = try RegistryDirectory(settings: [RegistrySettings(host: "registry.example.com", usernameEnv: "REG_USER", passwordEnv: "REG_PASSWORD")],
                                      environment: ["REG_USER": "deploy"], readFile: noFile)
        } throws: { error in
            "\(error)".contains("REG_PASSWORD") && "\(error)".contains("registry.example.com")
        }
    }

    @Test func dockerConfigAndCIRegistry() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("docker-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let auth = Data("dockeruser:docker-pass:with-colon".utf8).base64EncodedString()
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"registry.example.com":{}},"credsStore":"desktop"}"#
            .write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let directory = try RegistryDirectory(
            settings: [RegistrySettings(host: "docker.io"), RegistrySettings(host: "registry.example.com")],
            environment: ["DOCKER_CONFIG": folder.path, "CI_REGISTRY": "gitlab.example.com:5050",
                          "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "job-token-abcd"],
            readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        #expect(directory.entry(for: "docker.io")?.credentials == RegistryCredentials(username: "dockeruser", password: "docker-pass:with-colon"))
        #expect(directory.entry(for: "docker.io")?.credentialSource == "docker config.json")
        #expect(directory.entry(for: "registry.example.com")?.credentials == nil, "an empty auths entry (credsStore) is anonymous")
        let ci = try #require(directory.entry(for: "gitlab.example.com:5050"))
        #expect(ci.credentials == RegistryCredentials(username: "gitlab-ci-token", password: "job-token-abcd"))
        #expect(ci.baseURL.absoluteString == "https://gitlab.example.com:5050")
    }

    @Test func aBrokenConfigJSONMattersOnlyWhenARegistryIsConfigured() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("docker-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "{not json".write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let environment = ["DOCKER_CONFIG": folder.path]
        let read: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
        #expect(try RegistryDirectory(settings: [], environment: environment, readFile: read).entries.isEmpty)
        #expect {
            _ = try RegistryDirectory(settings: [RegistrySettings(host: "registry.example.com")], environment: environment, readFile: read)
        } throws: { "\($0)".contains(folder.appendingPathComponent("config.json").path) && "\($0)".contains("is not the JSON promobot expects") }
    }

    @Test func credentialsNeverPrint() {
        let credentials = RegistryCredentials(username: "deploy", password: "s3cret-pass")
        #expect(!"\(credentials)".contains("s3cret-pass"))
        #expect(!String(reflecting: credentials).contains("s3cret-pass"))
    }

    @Test func sha256Vectors() {
        #expect(SHA256.digest(Data()) == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.digest(Data("abc".utf8)) == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.digest(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.digest(Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
