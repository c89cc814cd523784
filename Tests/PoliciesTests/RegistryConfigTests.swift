import Foundation
import Testing
@testable import Policies

/// The config's `registries:` block and the stage keys `imageExists` and `pin`: values, and every mistake at its
/// position, with no secret echoed.
@Suite struct RegistryConfigTests {
    static func problems(_ yaml: String) -> [String] {
        ConfigParser.parse(yaml: yaml, path: "promobot.yaml", environment: [:]).diagnostics.map(\.formatted)
    }

    @Test func registriesAreRead() throws {
        let yaml = """
            registries:
              registry.example.com:
                usernameEnv: REGISTRY_USER
                passwordEnv: REGISTRY_PASSWORD
              gitlab.example.com:5050:
                url: http://127.0.0.1:5050
                usernameEnv: DEPLOY_USER
                passwordFile: /run/secrets/deploy-token
                caBundle: /etc/ssl/corp.pem
              docker.io:
            """
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: "promobot.yaml", environment: [:])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let registries = try #require(config).registries
        #expect(registries == [
            RegistrySettings(host: "registry.example.com", usernameEnv: "REGISTRY_USER", passwordEnv: "REGISTRY_PASSWORD", line: 2),
            RegistrySettings(host: "gitlab.example.com:5050", url: "http://127.0.0.1:5050", usernameEnv: "DEPLOY_USER",
                             passwordFile: "/run/secrets/deploy-token", caBundle: "/etc/ssl/corp.pem", line: 5),
            RegistrySettings(host: "docker.io", line: 10),
        ])
    }

    @Test(arguments: [
        ("registries:\n  https://registry.example.com:\n", "promobot.yaml:2:3: error: 'https://registry.example.com' in 'registries' is not a registry host: write the host alone (put a scheme in its 'url')"),
        ("registries:\n  registry.example.com:99999:\n", "promobot.yaml:2:3: error: 'registry.example.com:99999' in 'registries' is not a registry host: the port must be a number from 1 to 65535"),
        ("registries:\n  registry.example.com:\n    password: hunter2hunter2\n", "promobot.yaml:3:5: error: 'password' in registry 'registry.example.com' would put a secret in the config file: use 'passwordEnv' (the name of an environment variable) or 'passwordFile' (the path of a file) instead"),
        ("registries:\n  registry.example.com:\n    usernameEnv: U\n    passwordEnv: hunter2 hunter2\n", "promobot.yaml:4:18: error: 'registries.registry.example.com.passwordEnv' must be the name of an environment variable (letters, digits and '_', like REGISTRY_PASSWORD), not the password itself"),
        ("registries:\n  registry.example.com:\n    usernameEnv: U\n", "promobot.yaml:3:5: error: 'usernameEnv' in registry 'registry.example.com' needs 'passwordEnv' or 'passwordFile' too"),
        ("registries:\n  registry.example.com:\n    passwordEnv: P\n", "promobot.yaml:2:3: error: a password in registry 'registry.example.com' needs 'usernameEnv' too (GitLab deploy tokens and CI jobs have a user name)"),
        ("registries:\n  registry.example.com:\n    usernameEnv: U\n    passwordEnv: P\n    passwordFile: /p\n", "promobot.yaml:4:5: error: set only one of 'passwordEnv' and 'passwordFile' in registry 'registry.example.com'"),
        ("registries:\n  registry.example.com:\n    urll: https://x\n", "promobot.yaml:3:5: error: unknown key 'urll' in registry 'registry.example.com' (did you mean 'url'?)"),
        ("registries:\n  registry.example.com: {}\n  Registry.Example.com: {}\n", "promobot.yaml:3:3: error: registry 'registry.example.com' is listed twice in 'registries'"),
    ])
    func mistakes(yaml: String, expected: String) {
        let found = Self.problems(yaml)
        #expect(found == [expected])
        #expect(!found.joined().contains("hunter2"))
    }

    @Test func credentialsResolveAndNameTheirSource() throws {
        let settings = RegistrySettings(host: "registry.example.com", usernameEnv: "U", passwordFile: "/run/p")
        let resolved = try settings.resolveCredentials(environment: ["U": "deploy"], readFile: { _ in "token-value\n" })
        #expect(resolved?.username == "deploy" && resolved?.password == "token-value")
        #expect(try RegistrySettings(host: "docker.io").resolveCredentials(environment: [:], readFile: { _ in "" }) == nil)
        #expect {
            try settings.resolveCredentials(environment: [:], readFile: { _ in "x" })
        } throws: { "\($0)".contains("U (usernameEnv for registry registry.example.com) is not set") }
    }

    /// A two-stage policy with `images` and extra lines for the prod stage.
    static func policy(images: String, prod: String) -> String {
        "version: 1\nname: oms\nrepository: group/oms-deploy\nbranch: main\nimages: [\(images)]\nstages:\n"
            + "  - name: dev\n    paths: [dev/]\n  - name: prod\n    paths: [prod/]\n" + prod
    }

    @Test func stageKeys() throws {
        let yaml = Self.policy(images: "registry.example.com/oms/app", prod: "    pin: digest\n    imageExists: false\n")
        let parsed = PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml")
        #expect(parsed.diagnostics.isEmpty, "\(parsed.diagnostics.map(\.formatted))")
        let prod = try #require(parsed.policy?.stage(named: "prod"))
        #expect(prod.pin == .digest && !prod.imageExists)
        let dev = try #require(parsed.policy?.stage(named: "dev"))
        #expect(dev.pin == PinMode.none && dev.imageExists)

        let wrong = PolicyParser.parse(yaml: yaml.replacingOccurrences(of: "pin: digest", with: "pin: digests"), path: "policies/oms.yaml")
        #expect(wrong.diagnostics.map(\.formatted) == ["policies/oms.yaml:11:10: error: invalid pin mode 'digests' in stage 'prod': use one of none, digest (did you mean 'digest'?)"])
    }
}

extension RegistryConfigTests {
    @Test func pinWithoutARegistryIsAWarningAtTheConfig() throws {
        let yaml = Self.policy(images: "registry.example.com/oms/app, ghcr.io/acme/web", prod: "    pin: digest\n")
        let policy = try #require(PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml").policy)
        var config = PromobotConfig.default(environment: [:])
        config.sourcePath = "promobot.yaml"
        config.registries = [RegistrySettings(host: "registry.example.com")]
        let warnings = ConfigParser.registriesMissing(for: [policy], config: config, environment: [:])
        #expect(warnings.map(\.formatted) == ["promobot.yaml: warning: policy 'oms' pins digests in stage 'prod' (pin: digest) but no registry is configured for ghcr.io: add it under 'registries:', or promotions into 'prod' are blocked unless 'dev' pins digests itself"])
        #expect(ConfigParser.registriesMissing(for: [policy], config: config, environment: ["CI_REGISTRY": "ghcr.io"]).isEmpty)
    }
}
